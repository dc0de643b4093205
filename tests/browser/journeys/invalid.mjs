// invalid: korpud's 422s appear at the field they name. A referral
// missing the area's fields, a clinic emergency (refused by the plugin
// with the emergency number), and a birth date in the future.
import { signIn } from '../lib.mjs';

export default async function invalid(page, ctx, expect) {
  const { client } = ctx.ids;
  await page.goto('/');
  await signIn(page, ctx, ctx.staff.caseworker);

  await page.goto(`/#/clients/${encodeURIComponent(client)}/refer?area=clinics`);
  const urgency = page.getByLabel('Urgency');
  await expect.visible(urgency, 'the clinics form');
  await page.getByLabel('Reason for the referral', { exact: true }).fill('Cough for three weeks');
  await page.getByRole('button', { name: 'Send referral', exact: true }).click();
  await expectError(page, expect, urgency, /required/, 'Urgency');
  await expectError(page, expect, page.getByLabel('Service', { exact: true }), /required/, 'Service');
  expect.equal(await urgency.evaluate(el => el === document.activeElement), true, 'focus on the first field at fault');
  await ctx.screenshot('invalid.png');

  await urgency.selectOption('emergency');
  await page.getByLabel('Service', { exact: true }).selectOption('general_practice');
  await page.getByLabel('Short reason for the referral').fill('chest pain');
  await page.getByRole('button', { name: 'Send referral', exact: true }).click();
  await expectError(page, expect, urgency, /103/, 'Urgency (the emergency number)');
  await expect.hidden(page.getByText('The referral was sent.'), 'no referral was made');

  await page.goto('/#/clients/new');
  await page.getByLabel('Registration number').fill(ctx.ids.registration_no);
  await page.getByLabel('Given name').fill('Test');
  await page.getByLabel('Family name').fill('Future');
  await page.getByLabel('Date of birth').fill('2999-01-01');
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await expectError(page, expect, page.getByLabel('Date of birth'), /./, 'Date of birth');
}

// Waits until the control is marked invalid and the message it is
// described by matches re.
async function expectError(page, expect, control, re, what) {
  let text = '';
  await expect.poll(async () => {
    if ((await control.getAttribute('aria-invalid')) !== 'true') return false;
    const ids = (await control.getAttribute('aria-describedby')).split(' ');
    text = await page.locator('#' + ids[ids.length - 1]).innerText();
    return re.test(text);
  }, () => `${what}: not marked invalid with a message matching ${re} (its message: ${JSON.stringify(text)})`);
}
