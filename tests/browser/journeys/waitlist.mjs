// waitlist: a caseworker puts a housing referral (a waitlist area) on the
// provider's waitlist from the client page, sees the place korpu offers
// and accepts it; then the supervisor reads the summary report (charts
// and tables) and downloads it as CSV.
import { signIn } from '../lib.mjs';
import { apiAs } from '../api.mjs';

export default async function waitlist(page, ctx, expect) {
  const { client, provider_name: providerName } = ctx.ids;
  await page.goto('/');
  await signIn(page, ctx, ctx.staff.caseworker);
  await page.goto(`/#/clients/${encodeURIComponent(client)}`);
  const item = page.getByRole('listitem').filter({ hasText: providerName });
  await expect.text(item, 'Sent', 'the housing referral');
  expect.equal(await item.getByRole('link', { name: 'Book an appointment' }).count(), 0,
    'no booking for a waitlist area');
  await item.getByRole('button', { name: 'Join the waitlist', exact: true }).click();
  await expect.visible(page.getByText('The client is on the waitlist.'), 'the notice');
  const entries = await apiAs(ctx, ctx.staff.caseworker, 'GET',
    `/waitlist?provider_id=${encodeURIComponent((await apiAs(ctx, ctx.staff.caseworker, 'GET', `/referrals/${ctx.ids.referral}`)).provider_id)}`);
  expect.ok(entries.items.some(e => e.client_id === client), 'the client is on the provider\'s waitlist');

  // korpu offers the free place (in the background): answer it here.
  const entryRow = page.getByRole('region', { name: 'Waitlists', exact: true }).getByRole('row')
    .filter({ hasText: providerName });
  await expect.poll(async () => {
    await page.reload();
    await expect.visible(page.getByRole('heading', { name: 'Waitlists', exact: true }), 'the Waitlists section');
    return /Offered/.test(await entryRow.innerText());
  }, 'the entry offered a place');
  await expect.text(entryRow, 'answer by', 'the offer\'s deadline');
  expect.equal(await item.getByRole('button', { name: 'Join the waitlist' }).count(), 0,
    'no second join while the client waits there');
  await ctx.screenshot('offer.png');
  await entryRow.getByRole('button', { name: 'Accept the offer', exact: true }).click();
  await expect.text(page.getByRole('region', { name: 'Appointments', exact: true }).getByRole('row')
    .filter({ hasText: providerName }), 'Booked', 'the appointment the offer became');
  await expect.text(entryRow, 'Booked', 'the entry, booked');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();

  // The supervisor's report.
  await signIn(page, ctx, ctx.staff.supervisor);
  await page.getByRole('link', { name: 'Reports', exact: true }).click();
  await expect.visible(page.getByRole('heading', { name: 'Summary report', exact: true }), 'the report');
  const api = await apiAs(ctx, ctx.staff.supervisor, 'GET', '/reports/summary');
  const housing = api.areas.find(a => a.area === 'housing');
  expect.ok(housing.referrals.total >= 1, 'the housing referral is counted');
  for (const name of ['Referrals by status', 'Median days from referral to first appointment', 'Attendance'])
    await expect.visible(page.getByRole('img', { name, exact: true }), `the chart "${name}"`);
  const row = page.getByRole('table', { name: 'Referrals by status' }).getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: 'Housing', exact: true }) });
  await expect.text(row.getByRole('cell').nth(0), String(housing.referrals.total), 'the housing row\'s total, as the API has it');
  await expect.text(row.getByRole('cell').nth(1), String(housing.referrals.by_status.sent), 'the housing row\'s sent, as the API has it');
  await ctx.screenshot('report.png');

  const [download] = await Promise.all([page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download CSV', exact: true }).click()]);
  expect.ok(/^korpu-summary-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/.test(download.suggestedFilename()),
    `the CSV's file name (${download.suggestedFilename()})`);
  const csv = await (await download.createReadStream()).toArray();
  const text = Buffer.concat(csv).toString('utf8');
  expect.ok(text.startsWith('area,referrals,'), `the CSV's header (${text.slice(0, 40)})`);
  expect.ok(text.split('\n').some(l => l.startsWith(`housing,${housing.referrals.total},`)), 'the CSV\'s housing line');
}
