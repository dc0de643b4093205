// xss: a client whose name is markup is shown as text, runs nothing and
// adds no element; a right-to-left name keeps its own direction.
import { signIn } from '../lib.mjs';

export default async function xss(page, ctx, expect) {
  const { client, given, family, rtl_client: rtlClient, rtl_name: rtlName, registration_no: regNo } = ctx.ids;
  const violations = [];
  await page.exposeFunction('__cspViolation', v => violations.push(v));
  await page.addInitScript(() => document.addEventListener('securitypolicyviolation',
    e => window.__cspViolation(`${e.violatedDirective} ${e.blockedURI}`)));
  await page.goto('/');
  await signIn(page, ctx, ctx.staff.caseworker);

  await page.getByLabel('Search clients').fill(regNo);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const link = page.getByRole('link', { name: `${given} ${family}`, exact: true });
  await expect.visible(link, 'the client\'s markup name, as a link\'s text');
  await link.click();
  const h1 = page.getByRole('heading', { level: 1 });
  await expect.text(h1, `${given} ${family}`, 'the heading shows the name as typed');
  await ctx.screenshot('xss.png');
  const state = await page.evaluate(() => ({
    ran: window.__xss, imgs: document.querySelectorAll('main img').length,
    scripts: document.querySelectorAll('main script').length,
  }));
  expect.equal(state.ran, undefined, 'nothing the name holds ran');
  expect.equal(state.imgs, 0, '<img> elements made from the name');
  expect.equal(state.scripts, 0, '<script> elements made from the name');
  expect.equal(violations.length, 0, `CSP violations (${violations.join('; ')})`);
  expect.equal(page.url().endsWith(`/#/clients/${encodeURIComponent(client)}`), true, 'still on the client page');

  await page.goto(`/#/clients/${encodeURIComponent(rtlClient)}`);
  const name = page.getByRole('heading', { level: 1 }).locator('bdi');
  await expect.text(name, rtlName, 'the Persian name');
  expect.equal(await name.evaluate(el => getComputedStyle(el).direction), 'rtl', 'the name\'s direction');
  expect.equal(await page.evaluate(() => getComputedStyle(document.body).direction), 'ltr', 'the page\'s direction');
  await ctx.screenshot('rtl.png');
}
