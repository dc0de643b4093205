// school: a school place (seat model) is taken from an accepted schools
// referral with its intake appointment; when the grade is full, the next
// referral goes onto the school's waitlist instead. When the first child's
// place is released, the second is offered it, accepts, and books the
// intake the offered place came without.
import { signIn } from '../lib.mjs';
import { apiAs } from '../api.mjs';

async function takePlace(page, ctx, expect, client, school, notice) {
  await page.goto(`/#/clients/${encodeURIComponent(client)}`);
  const item = page.getByRole('listitem').filter({ hasText: school });
  await expect.text(item, 'Accepted', 'the accepted schools referral');
  await item.getByRole('link', { name: 'Take a school place', exact: true }).click();
  await expect.visible(page.getByRole('heading', { name: 'A school place and its intake appointment', exact: true }),
    'the school place page');
  await page.getByRole('button', { name: /\(\d+ free\)$/ }).first().click();
  await page.getByLabel('School year').selectOption('2027/2028');
  await ctx.screenshot('school.png');
  await page.getByRole('button', { name: 'Take the place', exact: true }).click();
  await expect.visible(page.getByText(notice), `the notice "${notice}"`);
}

export default async function school(page, ctx, expect) {
  const { first, second, school_name: school } = ctx.ids;
  await page.goto('/');
  await signIn(page, ctx, ctx.staff.caseworker);

  await takePlace(page, ctx, expect, first, school, 'The school place is taken, with its intake appointment.');
  const place = page.getByRole('row').filter({ hasText: '2027/2028' });
  await expect.text(place, /2027\/2028\s*5\s*Taken/, 'the place in grade 5 on the client page');
  await expect.text(page.getByRole('row').filter({ hasText: school }).first(), school, 'the school named');
  await expect.text(page.getByRole('listitem').filter({ hasText: school }), 'Scheduled', 'the referral, scheduled');

  await takePlace(page, ctx, expect, second, school, 'No place left in that grade: the referral is on the school\'s waitlist.');
  await expect.count(page.getByRole('heading', { name: 'School places', exact: true }), 0, 'no place for the second child');

  const seats = await apiAs(ctx, ctx.staff.caseworker, 'GET', `/seats?client_id=${encodeURIComponent(first)}`);
  await apiAs(ctx, ctx.staff.caseworker, 'POST', `/seats/${encodeURIComponent(seats.items[0].id)}/release`,
    { reason: 'the family moved to Ganja' });
  const entry = page.getByRole('region', { name: 'Waitlists', exact: true }).getByRole('row').filter({ hasText: school });
  await expect.poll(async () => {
    await page.reload();
    await expect.visible(page.getByRole('heading', { name: 'Waitlists', exact: true }), 'the Waitlists section');
    return /Offered/.test(await entry.innerText());
  }, 'the released place offered to the second child');
  await expect.text(entry, 'a place in grade 5, 2027/2028', 'the place offered');
  await entry.getByRole('button', { name: 'Accept the offer', exact: true }).click();
  await expect.text(page.getByRole('region', { name: 'School places', exact: true }), 'Taken', 'the place, taken');
  const item = page.getByRole('listitem').filter({ hasText: school });
  await expect.text(item, 'Scheduled', 'the referral, scheduled');
  await item.getByRole('link', { name: 'Book the intake appointment', exact: true }).click();
  await page.getByRole('button', { name: /\(\d+ free\)$/ }).first().click();
  await page.getByRole('button', { name: 'Confirm booking', exact: true }).click();
  await expect.visible(page.getByText('The appointment is booked.'), 'the intake booked');
  await expect.text(page.getByRole('region', { name: 'Appointments', exact: true }).getByRole('row')
    .filter({ hasText: school }), 'Booked', 'the intake appointment');
}
