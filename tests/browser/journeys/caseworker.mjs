// caseworker: sign in, register a client with consent for clinics, find
// them again, refer them to a clinic, book from the week of free times
// (once the clinic has accepted), see the appointment and its calendar
// file on the client's page, cancel it.
import { signIn } from '../lib.mjs';
import { apiAs } from '../api.mjs';

export default async function caseworker(page, ctx, expect) {
  const { provider, provider_name: providerName, registration_no: regNo, given, family } = ctx.ids;
  const fullName = `${given} ${family}`;
  await page.goto('/');
  await signIn(page, ctx, ctx.staff.caseworker);
  await expect.visible(page.getByRole('heading', { name: 'Clients', exact: true }), 'the Clients screen');

  // Register, with consent for clinics.
  await page.getByRole('link', { name: 'Register a client', exact: true }).click();
  await expect.visible(page.getByRole('heading', { name: 'Register a client', exact: true }), 'the registration form');
  await page.getByLabel('Registration number').fill(regNo);
  await page.getByLabel('Given name').fill(given);
  await page.getByLabel('Family name').fill(family);
  await page.getByLabel('Date of birth').fill('1991-02-03');
  await page.getByLabel('Sex').selectOption('female');
  await page.getByLabel('Region').selectOption('baku');
  await page.getByLabel('Languages').fill('fa, az');
  const clinics = page.getByRole('group', { name: 'Clinics', exact: true });
  await clinics.getByLabel('Consents to the service').check();
  await clinics.getByLabel('Consents to sharing with the provider').check();
  await ctx.screenshot('register.png');
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await expect.visible(page.getByRole('heading', { name: fullName, exact: true }), 'the new client\'s page');
  const consentRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Clinics', exact: true }) });
  await expect.text(consentRow, /Clinics\s*Yes\s*Yes/, 'consent for clinics on the client page');

  // Find them again by registration number.
  await page.getByRole('link', { name: 'Clients', exact: true }).click();
  await page.getByLabel('Search clients').fill(regNo);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect.visible(page.getByText('1 found.'), 'one search result');
  await page.getByRole('link', { name: fullName, exact: true }).click();
  await expect.visible(page.getByRole('heading', { name: fullName, exact: true }), 'the client page from the search');

  // Refer to the clinic, the form rendered from the area's fields.
  await page.getByRole('link', { name: 'New referral', exact: true }).click();
  await page.getByLabel('Service area').selectOption('clinics');
  await expect.visible(page.getByLabel('Urgency'), 'the clinics field Urgency');
  await page.getByLabel('Provider').selectOption({ label: providerName });
  await page.getByLabel('Reason for the referral', { exact: true }).fill('Health check after arrival');
  await page.getByLabel('Urgency').selectOption('routine');
  await page.getByLabel('Service', { exact: true }).selectOption('general_practice');
  await page.getByLabel('Short reason for the referral').fill('check-up');
  await page.getByRole('button', { name: 'Send referral', exact: true }).click();
  await expect.visible(page.getByText('The referral was sent.'), 'the notice that the referral was sent');
  const referral = page.getByRole('listitem').filter({ hasText: providerName });
  await expect.text(referral, 'Sent', 'the referral, sent');

  // The clinic accepts it (its staff, through the API), and the caseworker books.
  const refs = await apiAs(ctx, ctx.staff.caseworker, 'GET', `/referrals?provider_id=${encodeURIComponent(provider)}`);
  expect.equal(refs.items.length, 1, 'referrals to the journey\'s clinic');
  await apiAs(ctx, ctx.staff.clinic, 'POST', `/referrals/${encodeURIComponent(refs.items[0].id)}/transition`,
    { to: 'accepted', note: null });
  await page.reload();
  await expect.text(referral, 'Accepted', 'the referral, accepted by the clinic');
  await page.getByRole('link', { name: 'Book an appointment', exact: true }).click();
  await expect.visible(page.getByRole('heading', { name: 'Book an appointment', exact: true }), 'the week of free times');
  const slot = page.getByRole('button', { name: /\(1 free\)$/ }).first();
  await expect.visible(slot, 'a free time in the next 7 days');
  await ctx.screenshot('week.png');
  const slotName = await slot.getAttribute('aria-label');
  await slot.click();
  await page.getByRole('button', { name: 'Confirm booking', exact: true }).click();
  await expect.visible(page.getByText('The appointment is booked.'), 'the notice that the appointment is booked');
  const appt = page.getByRole('row').filter({ hasText: providerName });
  await expect.text(appt, 'Booked', 'the appointment on the client page');
  await expect.text(referral, 'Scheduled', 'the referral, scheduled by the booking');
  expect.ok(slotName.includes((await appt.locator('td').first().innerText()).split(' ').pop()),
    `the booked time is the one picked (${slotName})`);
  await ctx.screenshot('client.png');

  // The calendar file, with the session cookie.
  const ics = appt.getByRole('link', { name: 'Calendar file (.ics)', exact: true });
  const res = await page.request.get(await ics.getAttribute('href'));
  expect.equal(res.status(), 200, 'the .ics download');
  expect.ok((await res.text()).includes('BEGIN:VCALENDAR'), 'the .ics is iCalendar');

  // Move it to another free time.
  const before = await appt.locator('td').first().innerText();
  await appt.getByRole('link', { name: 'Reschedule', exact: true }).click();
  await expect.visible(page.getByRole('heading', { name: 'Move the appointment', exact: true }), 'the week to move it in');
  const other = page.getByRole('button', { name: /\(1 free\)$/ }).nth(1);
  const otherName = await (await expect.visible(other, 'another free time')).getAttribute('aria-label');
  await other.click();
  await page.getByRole('button', { name: 'Confirm the new time', exact: true }).click();
  await expect.visible(page.getByText('The appointment is booked.'), 'the notice after moving');
  const after = await page.getByRole('row').filter({ hasText: providerName }).locator('td').first().innerText();
  expect.ok(after !== before && otherName.includes(after.split(' ').pop()),
    `the appointment moved from ${before} to the time picked (${otherName}), shows ${after}`);

  // Cancel, with a reason.
  await appt.getByRole('button', { name: 'Cancel appointment', exact: true }).click();
  await page.getByLabel('Reason for cancelling').fill('The client moved to Ganja');
  await page.getByRole('button', { name: 'Confirm cancellation', exact: true }).click();
  await expect.text(page.getByRole('row').filter({ hasText: providerName }), 'Cancelled', 'the appointment, cancelled');
  // The referral can be booked again.
  await expect.visible(referral.getByRole('link', { name: 'Book an appointment', exact: true }),
    'booking again after the cancellation');
}
