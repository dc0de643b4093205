// course: a language course (session area) is booked whole: every
// session of the series at once, from the referral's booking page.
import { signIn } from '../lib.mjs';

export default async function course(page, ctx, expect) {
  const { client, provider_name: providerName, course_title: title, sessions } = ctx.ids;
  await page.goto('/');
  await signIn(page, ctx, ctx.staff.caseworker);
  await page.goto(`/#/clients/${encodeURIComponent(client)}`);
  const item = page.getByRole('listitem').filter({ hasText: providerName });
  await expect.text(item, 'Accepted', 'the accepted course referral');
  await item.getByRole('link', { name: 'Book an appointment', exact: true }).click();
  await expect.visible(page.getByRole('heading', { name: 'Courses', exact: true }), 'the provider\'s courses');
  await ctx.screenshot('course.png');
  await page.getByRole('button', { name: `Enrol in the whole course ${title}`, exact: true }).click();
  await expect.visible(page.getByText('The client is enrolled in every session of the course.'), 'the notice');
  await expect.count(page.getByRole('row').filter({ hasText: providerName }), sessions,
    'one appointment per session of the course');
  await expect.text(item, 'Scheduled', 'the referral, scheduled');
}
