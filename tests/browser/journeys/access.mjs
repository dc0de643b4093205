// access: the first screen's transfer stays under 200 KB (counted
// decoded, so even without gzip); the client is
// used by keyboard alone (sign in, go to a form, fill and send it) with
// a visible focus; every control has a label; text contrast meets WCAG AA
// on each main screen.
const BUDGET = 200 * 1024;

// Bytes of every response, headers and body as decoded: what came gzipped
// counts at its full size, so this is an upper bound of the wire.
function meter(page) {
  const m = { bytes: 0, urls: [] };
  page.on('response', async res => {
    try {
      const body = await res.body();
      const head = Object.entries(await res.allHeaders()).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
      m.bytes += body.length + head;
      m.urls.push(`${res.url()} ${body.length}`);
    } catch (e) { /* a redirect has no body */ }
  });
  return m;
}

// What the page says about itself: controls without labels, text below AA.
function audit() {
  const parse = c => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const unlabelled = [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden' && !el.labels.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map(el => el.outerHTML.slice(0, 80));
  const low = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.checkVisibility || !el.checkVisibility()) continue;
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    if (el.closest('svg') || el.disabled) continue;
    const st = getComputedStyle(el);
    const fg = parse(st.color).slice(0, 3);
    const [l1, l2] = [lum(fg), lum(background(el))].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) low.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)} < ${need}`);
  }
  return { unlabelled, low };
}

async function checkScreen(page, expect, what) {
  const a = await page.evaluate(audit);
  expect.equal(a.unlabelled.length, 0, `${what}: controls without a label: ${a.unlabelled.join(', ')}`);
  expect.equal(a.low.length, 0, `${what}: text below WCAG AA contrast: ${a.low.join('; ')}`);
}

// Presses Tab until the focused element's accessible text is name.
async function tabTo(page, expect, name) {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const t = await page.evaluate(() => (document.activeElement.getAttribute('aria-label') || document.activeElement.textContent || '').trim());
    if (t === name) return;
  }
  expect.fail(`Tab never reached "${name}"`);
}

async function focusVisible(page) {
  return page.evaluate(() => {
    const st = getComputedStyle(document.activeElement);
    return st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) >= 2;
  });
}

export default async function access(page, ctx, expect) {
  const uid = ctx.staff.caseworker;
  const m = meter(page);
  await page.goto('/');
  await expect.visible(page.getByLabel('Username'), 'the sign-in form');
  await page.waitForLoadState('networkidle');
  expect.ok(m.bytes < BUDGET, `the sign-in screen took ${m.bytes} bytes (budget ${BUDGET}):\n  ${m.urls.join('\n  ')}`);
  await checkScreen(page, expect, 'sign-in');

  // Keyboard only: the sign-in form has focus; type, Tab, type, Enter.
  expect.equal(await page.evaluate(() => document.activeElement.name), 'username', 'focus starts in Username');
  await page.keyboard.type(uid);
  await page.keyboard.press('Tab');
  await page.keyboard.type(ctx.users[uid].password);
  await page.keyboard.press('Enter');
  await expect.visible(page.getByRole('heading', { name: 'Clients', exact: true }), 'the Clients screen');
  await page.waitForLoadState('networkidle');
  expect.ok(m.bytes < BUDGET, `sign-in and the first screen took ${m.bytes} bytes (budget ${BUDGET})`);
  await checkScreen(page, expect, 'clients');

  await tabTo(page, expect, 'Register a client');
  expect.ok(await focusVisible(page), 'the focused link shows a focus outline');
  await page.keyboard.press('Enter');
  await expect.visible(page.getByRole('heading', { name: 'Register a client', exact: true }), 'the registration form');
  await checkScreen(page, expect, 'registration');
  await tabTo(page, expect, 'Register');
  expect.ok(await focusVisible(page), 'the focused button shows a focus outline');
  await page.keyboard.press('Enter');
  const reg = page.getByLabel('Registration number');
  await expect.poll(async () => (await reg.getAttribute('aria-invalid')) === 'true', 'an empty form sent by keyboard: the first field at fault');
  expect.ok(await reg.evaluate(el => el === document.activeElement), 'focus moved to the first field at fault');
  await checkScreen(page, expect, 'registration with errors');

  await page.goto(`/#/clients/${encodeURIComponent(ctx.ids.client)}`);
  await expect.visible(page.getByRole('heading', { name: 'Consent', exact: true }), 'the client page');
  await checkScreen(page, expect, 'client page');
  await page.goto(`/#/clients/${encodeURIComponent(ctx.ids.client)}/refer?area=clinics`);
  await expect.visible(page.getByLabel('Urgency'), 'the referral form');
  await checkScreen(page, expect, 'referral form');
}
