// edit: a caseworker corrects a client's details: a mistyped
// registration number, the phone (cleared), a language added. A number
// another client has, and an emptied required field, are refused at
// their fields, and nothing of those changes is kept.
import { signIn } from '../lib.mjs';
import { apiAs } from '../api.mjs';

export default async function edit(page, ctx, expect) {
  const { client, other_regno: taken, new_regno: fixed } = ctx.ids;
  const path = `/#/clients/${encodeURIComponent(client)}`;
  await page.goto('/');
  await signIn(page, ctx, ctx.staff.caseworker);
  await page.goto(path);
  await page.getByRole('link', { name: 'Correct details', exact: true }).click();
  await expect.url(page, /\/edit$/);

  const regno = page.getByLabel('Registration number');
  await expect.visible(regno, 'the registration number field');
  await regno.fill(taken);
  await page.getByRole('button', { name: 'Save changes', exact: true }).click();
  let message = '';
  await expect.poll(async () => {
    if ((await regno.getAttribute('aria-invalid')) !== 'true') return false;
    const ids = (await regno.getAttribute('aria-describedby')).split(' ');
    message = await page.locator('#' + ids[ids.length - 1]).innerText();
    return /another client has this registration number/.test(message);
  }, () => `the taken number is not refused at its field (its message: ${JSON.stringify(message)})`);
  const unchanged = await apiAs(ctx, ctx.staff.caseworker, 'GET', `/clients/${encodeURIComponent(client)}`);
  expect.ok(unchanged.registration_no !== taken, 'the refused number was not stored');
  await ctx.screenshot('edit-refused.png');

  // An emptied required field is refused at that field too.
  const given = page.getByLabel('Given name');
  await regno.fill(fixed);
  await given.fill('');
  await page.getByRole('button', { name: 'Save changes', exact: true }).click();
  await expect.poll(async () => (await given.getAttribute('aria-invalid')) === 'true',
    'the emptied given name is not marked invalid');
  const still = await apiAs(ctx, ctx.staff.caseworker, 'GET', `/clients/${encodeURIComponent(client)}`);
  expect.equal(still.given_name, unchanged.given_name, 'nothing of the refused change was stored');
  expect.equal(still.registration_no, unchanged.registration_no, 'nor its number');
  await given.fill(unchanged.given_name);

  await page.getByLabel('Phone').fill('');
  await page.getByLabel('Languages').fill('az, fa');
  await page.getByRole('button', { name: 'Save changes', exact: true }).click();
  await expect.visible(page.getByText("The client's details are saved."), 'the saved notice');
  await expect.url(page, new RegExp(`#/clients/${client.replace(/\./g, '\\.')}$`));
  await expect.visible(page.getByText(fixed, { exact: true }), 'the new number on the client page');

  const saved = await apiAs(ctx, ctx.staff.caseworker, 'GET', `/clients/${encodeURIComponent(client)}`);
  expect.equal(saved.registration_no, fixed, 'the stored number');
  expect.equal(saved.phone, null, 'the phone was cleared');
  expect.equal(JSON.stringify(saved.languages), JSON.stringify(['az', 'fa']), 'the languages');
  expect.equal(saved.given_name, unchanged.given_name, 'the name was left as it was');
  const found = await apiAs(ctx, ctx.staff.caseworker, 'GET', `/clients?q=${encodeURIComponent(fixed)}`);
  expect.equal(found.items.map(c => c.id).join(), client, 'found by the new number');
}
