// unavailable: Redis stops answering mid-session (SIGSTOP, so korpud's
// commands time out: a real outage, not a mocked reply). The client says
// korpu cannot reach a service, changes nothing, and recovers with
// "Try again" once Redis is back.
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
}
