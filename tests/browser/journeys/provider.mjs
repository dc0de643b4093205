// provider: clinic staff see the referral in their inbox, accept it, and
// once it is booked mark the client attended in the day view, which
// completes the referral.
import { signIn } from '../lib.mjs';
import { apiAs } from '../api.mjs';

export default async function provider(page, ctx, expect) {
  const { referral, provider, client_name: who } = ctx.ids;
  await page.goto('/');
  await signIn(page, ctx, ctx.staff.clinic);
  await expect.visible(page.getByRole('heading', { name: 'Referrals inbox', exact: true }), 'the inbox');
  const item = page.getByRole('listitem').filter({ hasText: who });
  await expect.visible(item, `the referral of ${who} in the inbox`);
  await expect.text(item, 'Health check after arrival', 'the referral\'s reason');
  await expect.text(item, 'General practice', 'the clinic field, in words');
  await ctx.screenshot('inbox.png');
  await page.getByRole('button', { name: `Accept referral of ${who}`, exact: true }).click();
  await expect.hidden(page.getByRole('button', { name: `Accept referral of ${who}`, exact: true }), 'the Accept button once accepted');
  await page.getByLabel('Show').selectOption('accepted');
  await expect.text(page.getByRole('listitem').filter({ hasText: who }), 'Accepted', 'the referral among the accepted');

  // A second referral is declined, and only with a reason.
  const other = ctx.ids.other_name;
  await page.getByLabel('Show').selectOption('sent');
  await page.getByRole('button', { name: `Decline referral of ${other}`, exact: true }).click();
  const reason = page.getByLabel('Reason for declining');
  await page.getByRole('button', { name: 'Confirm decline', exact: true }).click();
  await expect.poll(async () => (await reason.getAttribute('aria-invalid')) === 'true', 'an empty reason refused');
  await expect.visible(page.getByText('Please give the reason; the caseworker will see it.'), 'the reason asked for');
  await reason.fill('No dentist until January');
  await page.getByRole('button', { name: 'Confirm decline', exact: true }).click();
  await expect.hidden(page.getByRole('button', { name: `Decline referral of ${other}`, exact: true }), 'the declined referral leaves the inbox');
  await page.getByLabel('Show').selectOption('declined');
  await expect.text(page.getByRole('listitem').filter({ hasText: other }), 'Declined', 'the referral, declined');
  const declined = await apiAs(ctx, ctx.staff.caseworker, 'GET', `/referrals/${ctx.ids.other_referral}`);
  expect.equal(declined.history[declined.history.length - 1].note, 'No dentist until January', 'the reason, kept for the caseworker');

  // The caseworker books the first free time (through the API).
  const from = new Date().toISOString().slice(0, 10);
  const to = new Date(Date.now() + 6 * 86400000).toISOString().slice(0, 10);
  const slots = await apiAs(ctx, ctx.staff.caseworker, 'GET', `/providers/${provider}/slots?from=${from}&to=${to}`);
  expect.ok(slots.length > 0, 'a free time in the next 7 days');
  const ref = await apiAs(ctx, ctx.staff.caseworker, 'GET', `/referrals/${referral}`);
  await apiAs(ctx, ctx.staff.caseworker, 'POST', '/appointments',
    { provider_id: provider, client_id: ref.client_id, start: slots[0].start, referral_id: referral });

  // The day of the appointment: mark the client attended.
  await page.getByRole('link', { name: 'Day view', exact: true }).click();
  await page.getByLabel('Date').fill(slots[0].start.slice(0, 10));
  await page.getByLabel('Date').dispatchEvent('change');
  const row = page.getByRole('row').filter({ hasText: who });
  await expect.text(row, 'Booked', `${who}'s appointment in the day view`);
  await expect.text(row, slots[0].start.slice(11, 16), 'the appointment\'s local time');
  await ctx.screenshot('day.png');
  await page.getByRole('button', { name: `Attended: ${who}`, exact: true }).click();
  await expect.text(page.getByRole('row').filter({ hasText: who }), 'Attended', 'the appointment, attended');

  await page.getByRole('link', { name: 'Referrals inbox', exact: true }).click();
  await page.getByLabel('Show').selectOption('completed');
  await expect.text(page.getByRole('listitem').filter({ hasText: who }), 'Completed', 'the referral, completed by the attendance');
}
