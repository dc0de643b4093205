// school: a school place (seat model) is taken from an accepted schools
// referral with its intake appointment; when the grade is full, the next
// referral goes onto the school's waitlist instead.
import { signIn } from '../lib.mjs';

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
}
