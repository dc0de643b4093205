// i18n.js: the interface language. Strings live in /i18n/LANG.json; a
// key missing there falls back to English, then to the key itself.
export const LANGS = ['az', 'en', 'ru'];
const LOCALES = { az: 'az-Latn-AZ', en: 'en-GB', ru: 'ru-RU' };
const STORE = 'korpu.lang';

let lang = 'en';
let dict = {};
let english = {};

async function fetchDict(code) {
  const r = await fetch(`/i18n/${code}.json`, { credentials: 'same-origin' });
  if (!r.ok) throw new Error(`translations ${code}: ${r.status}`);
  return r.json();
}

// The remembered choice, else the browser's first language we have, else Azerbaijani.
export function preferred() {
  const saved = localStorage.getItem(STORE);
  if (LANGS.includes(saved)) return saved;
  for (const l of navigator.languages || [navigator.language]) {
    const code = String(l).slice(0, 2).toLowerCase();
    if (LANGS.includes(code)) return code;
  }
  return 'az';
}

export async function setLang(code, remember) {
  if (!LANGS.includes(code)) code = 'en';
  if (!english.language) english = await fetchDict('en');
  dict = code === 'en' ? english : await fetchDict(code);
  lang = code;
  if (remember) localStorage.setItem(STORE, code);
  document.documentElement.lang = code;
  translateStatic(document);
}

export function current() {
  return lang;
}

export function locale() {
  return LOCALES[lang];
}

// t('clients.found', {n: 3}): "{n}" placeholders filled from vars.
export function t(key, vars) {
  const s = dict[key] ?? english[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
}

// Has this key a translation (as opposed to falling back to the key)?
export function has(key) {
  return key in dict || key in english;
}

// Elements of index.html carry data-i18n (text) or data-i18n-label (aria-label).
export function translateStatic(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]'))
    el.setAttribute('aria-label', t(el.dataset.i18nLabel));
}

export function fmtDate(iso, opts) {
  if (!iso) return '—';
  const d = new Date(iso.length === 10 ? iso + 'T12:00:00Z' : iso);
  return new Intl.DateTimeFormat(locale(), opts || { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}

export function fmtTime(iso, timeZone, opts) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(locale(), { timeZone, ...(opts || { dateStyle: 'medium', timeStyle: 'short' }) })
    .format(new Date(iso));
}

export function fmtNumber(n, opts) {
  return n === null || n === undefined ? '—' : new Intl.NumberFormat(locale(), opts).format(n);
}
