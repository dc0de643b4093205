// unavailable: Redis stops answering mid-session (SIGSTOP, so korpud's
// commands time out: a real outage, not a mocked reply). The client says
// korpu cannot reach a service, changes nothing, and recovers with
// "Try again" once Redis is back. Then the session ends elsewhere: the
// next call says so and shows the sign-in form.
import { signIn } from '../lib.mjs';

export default async function unavailable(page, ctx, expect) {
  const pid = ctx.ids.redis_pid;
  await page.goto('/');
  await signIn(page, ctx, ctx.staff.caseworker);
  await expect.visible(page.getByRole('heading', { name: 'Clients', exact: true }), 'the Clients screen');
  await page.getByLabel('Search clients').fill('Məmmədova');
  process.kill(pid, 'SIGSTOP');
  try {
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const banner = page.getByRole('alert').filter({ hasText: 'cannot reach a service' });
    await expect.visible(banner, 'the banner saying a service is unreachable', 20000);
    await expect.text(banner, 'Nothing was changed', 'the banner says nothing was changed');
    await ctx.screenshot('unavailable.png');
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await page.getByRole('alert').getByRole('button', { name: 'Try again', exact: true }).click();
  await expect.hidden(page.getByRole('alert').filter({ hasText: 'cannot reach a service' }),
    'the banner once korpu answers again', 20000);
  await expect.visible(page.getByText(/^\d+ found\.$/), 'the search results after recovering', 20000);

  // Signed out in another tab (the same cookie): the next call is a 401.
  const out = await page.request.post('/api/v1/logout', { headers: { 'Content-Type': 'application/json' }, data: '{}' });
  expect.equal(out.status(), 204, 'signing out through the API');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect.visible(page.getByRole('alert').filter({ hasText: 'Your session has ended' }), 'the session-ended banner');
  await expect.visible(page.getByLabel('Username'), 'the sign-in form again');
  await expect.hidden(page.getByRole('button', { name: 'Sign out', exact: true }), 'no Sign out button');
}
