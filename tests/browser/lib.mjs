// lib.mjs: what journeys share. `expect` (also handed to every journey
// as its third argument) is a small assertion helper: playwright-core has
// no test runner and so no expect of its own. Every check waits (up to
// `timeout` ms) where waiting makes sense, and fails with a message that
// says what was looked for.

export const TIMEOUT = 10000;

export class JourneyError extends Error {}

function fail(message) {
  throw new JourneyError(message);
}

// A locator's description for messages ("getByRole('button', { name: 'Sign in' })").
function described(locator) {
  return String(locator).replace(/^Locator@/, '');
}

async function waitState(locator, state, what, timeout) {
  try {
    await locator.first().waitFor({ state, timeout });
  } catch (err) {
    fail(`${what || described(locator)}: not ${state} within ${timeout} ms` +
      (err && err.name === 'TimeoutError' ? '' : ` (${err.message})`));
  }
  return locator;
}

// Polls fn until it returns a true value (returned); fails with message
// (a string, or a function of the last value) after timeout.
async function poll(fn, message, timeout = TIMEOUT, interval = 100) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() >= deadline) fail(typeof message === 'function' ? message(last) : message);
    await new Promise(r => setTimeout(r, interval));
  }
}

export const expect = {
  TIMEOUT,
  poll,
  fail,

  ok(value, message) {
    if (!value) fail(message || `expected a true value, got ${JSON.stringify(value)}`);
    return value;
  },

  equal(actual, wanted, message) {
    if (actual !== wanted)
      fail(`${message ? message + ': ' : ''}got ${JSON.stringify(actual)}, wanted ${JSON.stringify(wanted)}`);
    return actual;
  },

  // Waits until the locator's first match is visible: expect.visible(page.getByRole(...), 'the Sign in button').
  visible(locator, what, timeout = TIMEOUT) {
    return waitState(locator, 'visible', what, timeout);
  },

  // Waits until nothing the locator matches is visible (or none exists).
  async hidden(locator, what, timeout = TIMEOUT) {
    await poll(async () => !(await anyVisible(locator)),
      `${what || described(locator)}: still visible after ${timeout} ms`, timeout);
    return locator;
  },

  // Waits until the locator matches exactly n elements.
  async count(locator, n, what, timeout = TIMEOUT) {
    let got;
    await poll(async () => (got = await locator.count()) === n,
      () => `${what || described(locator)}: ${got} found, wanted ${n}`, timeout);
    return locator;
  },

  // Waits until the first match's text contains text (a string) or matches it (a RegExp).
  async text(locator, text, what, timeout = TIMEOUT) {
    let got = null;
    const fits = s => s !== null && (text instanceof RegExp ? text.test(s) : s.includes(text));
    await poll(async () => {
      got = await locator.first().textContent({ timeout: 1000 }).catch(() => null);
      return fits(got);
    }, () => `${what || described(locator)}: text ${JSON.stringify(got)} does not ` +
      `${text instanceof RegExp ? 'match ' + text : 'contain ' + JSON.stringify(text)}`, timeout);
    return locator;
  },

  // Waits until the page's URL matches re.
  async url(page, re, timeout = TIMEOUT) {
    await poll(() => re.test(page.url()), () => `URL ${page.url()} does not match ${re}`, timeout);
  },
};

async function anyVisible(locator) {
  for (const el of await locator.all())
    if (await el.isVisible()) return true;
  return false;
}

// Fields are found with getByLabel(TEXT) without exact: Playwright's label
// text keeps what is aria-hidden (a required field's " *"), which the
// accessible name leaves out. Buttons, links and headings: getByRole with
// exact names.

// Signs uid in through the sign-in form (which must be showing) with the
// demo password from ctx.users.
export async function signIn(page, ctx, uid) {
  const user = ctx.users[uid];
  expect.ok(user, `no demo user ${uid} in the context`);
  await expect.visible(page.getByLabel('Username'), 'the Username field');
  await page.getByLabel('Username').fill(uid);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect.visible(page.getByRole('button', { name: 'Sign out', exact: true }),
    `the Sign out button after ${uid} signed in`);
}
