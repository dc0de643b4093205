// run-journey.mjs JOURNEY: runs one browser journey in Debian's chromium.
//
// Reads a JSON context on stdin (base_url, users, staff, orgs, ids,
// screenshots, timeout_ms: see conftest.py), launches /usr/bin/chromium
// headless through playwright-core, opens a fresh context (English,
// Asia/Baku) and runs journeys/JOURNEY.mjs's default export
// `async (page, ctx, expect)`. Exit 0 when it passed; otherwise it saves
// SCREENSHOTS/JOURNEY-failure.png, prints the error, the page's console
// and any request it tried outside base_url's origin, and exits 1.
//
// A hard timeout (ctx.timeout_ms) ends it whatever the browser does;
// playwright-core kills chromium's process group when node exits, so no
// browser outlives this process. Chromium resolves no host name (only
// 127.0.0.1 is reachable) and the page's requests outside its origin are
// refused, and fail the journey.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { expect, JourneyError } from './lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const started = Date.now();
const name = process.argv[2] || '';

function out(line) {
  process.stdout.write(line + '\n');
}

if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
  out('usage: node run-journey.mjs JOURNEY < context.json (JOURNEY: a file of journeys/, without .mjs)');
  process.exit(2);
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const ctx = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
if (!ctx.base_url) {
  out('run-journey: the context on stdin has no base_url');
  process.exit(2);
}
const origin = new URL(ctx.base_url).origin;
const shots = ctx.screenshots || join(HERE, '..', '..', 'build', 'results', 'screenshots');
mkdirSync(shots, { recursive: true });

let browser = null;
let page = null;
const consoleLines = [];
const pageErrors = [];
const outside = [];
let failing = false;

// Gives up on a promise after ms (resolves undefined), for clean-up steps
// that must not hang.
function within(ms, promise) {
  let timer;
  return Promise.race([
    Promise.resolve(promise).catch(() => undefined),
    new Promise(resolve => { timer = setTimeout(resolve, ms); }),
  ]).finally(() => clearTimeout(timer));
}

async function failed(err) {
  if (failing) return;
  failing = true;
  out(`journey ${name}: FAILED after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  out(err instanceof JourneyError ? `${err.message}\n${journeyFrames(err)}` : String(err && err.stack || err));
  if (page) {
    out(`page URL: ${page.url()}`);
    const file = join(shots, `${name}-failure.png`);
    if (await within(5000, page.screenshot({ path: file, fullPage: true }).then(() => true)))
      out(`screenshot: ${file}`);
  }
  report();
  await within(10000, browser && browser.close());
  process.exit(1);
}

// The frames of a JourneyError's stack inside the journey files (where the check failed).
function journeyFrames(err) {
  return String(err.stack || '').split('\n').filter(l => l.includes('/journeys/')).join('\n');
}

function report() {
  if (pageErrors.length) out('uncaught errors in the page:\n  ' + pageErrors.join('\n  '));
  if (outside.length) out('requests outside ' + origin + ' (refused):\n  ' + outside.join('\n  '));
  if (consoleLines.length) out('page console:\n  ' + consoleLines.slice(-50).join('\n  '));
}

const hardTimeout = Number(ctx.timeout_ms) || 120000;
setTimeout(() => {
  if (failing) process.exit(1);	// even failing hangs: go now
  failed(new Error(`hard timeout: journey ${name} still ran after ${hardTimeout} ms`));
  setTimeout(() => process.exit(1), 20000);
}, hardTimeout);
process.on('unhandledRejection', err => failed(err));

try {
  const journey = (await import(pathToFileURL(join(HERE, 'journeys', `${name}.mjs`)).href)).default;
  if (typeof journey !== 'function') throw new Error(`journeys/${name}.mjs has no default export function`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
  });
  const context = await browser.newContext({
    baseURL: ctx.base_url, locale: 'en-GB', timezoneId: 'Asia/Baku',
    viewport: { width: 1280, height: 900 },
  });
  await context.route(url => url.origin !== origin, route => {
    outside.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  page = await context.newPage();
  page.setDefaultTimeout(expect.TIMEOUT);
  page.setDefaultNavigationTimeout(30000);
  page.on('console', m => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', e => pageErrors.push(String(e && e.stack || e)));
  ctx.screenshot = async file => {
    const path = join(shots, file);
    await page.screenshot({ path, fullPage: true });
    return path;
  };

  await journey(page, ctx, expect);

  if (pageErrors.length) throw new JourneyError('the page threw uncaught errors');
  if (outside.length) throw new JourneyError(`the page made requests outside ${origin}`);
  await within(10000, browser.close());
  out(`journey ${name}: ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  process.exit(0);
} catch (err) {
  await failed(err);
}
