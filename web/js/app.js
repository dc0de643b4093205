// app.js: starts the client: language, session, navigation and the
// routes (#/path in the address, so every screen can be bookmarked and
// korpud serves one page).
import { h, clear } from './dom.js';
import { setLang, preferred, t, translateStatic } from './i18n.js';
import { get, post, on } from './api.js';
import login from './views/login.js';
import clients from './views/clients.js';
import clientNew from './views/client-new.js';
import clientPage from './views/client.js';
import clientEdit from './views/client-edit.js';
import referralNew from './views/referral-new.js';
import book from './views/book.js';
import inbox from './views/inbox.js';
import day from './views/day.js';
import reports from './views/reports.js';
import directory from './views/directory.js';

const ROUTES = [
  // pattern, view, roles that see it
  ['/clients', clients, ['caseworker', 'supervisor']],
  ['/clients/new', clientNew, ['caseworker']],
  ['/clients/:id', clientPage, ['caseworker', 'supervisor']],
  ['/clients/:id/edit', clientEdit, ['caseworker']],
  ['/clients/:id/refer', referralNew, ['caseworker']],
  ['/book/:referral', book, ['caseworker']],
  ['/reschedule/:appointment', book, ['caseworker']],
  ['/inbox', inbox, ['provider', 'supervisor']],
  ['/day', day, ['provider', 'supervisor']],
  ['/reports', reports, ['supervisor']],
  ['/directory', directory, ['admin', 'supervisor', 'caseworker', 'provider']],
];

const NAV = [
  ['/clients', 'nav.clients', ['caseworker', 'supervisor']],
  ['/inbox', 'nav.inbox', ['provider', 'supervisor']],
  ['/day', 'nav.day', ['provider', 'supervisor']],
  ['/reports', 'nav.reports', ['supervisor']],
  ['/directory', 'nav.directory', ['admin', 'supervisor', 'caseworker', 'provider']],
];

const state = { user: null, rendering: 0 };
const main = () => document.getElementById('main');

function allowed(roles) {
  return state.user && state.user.roles.some(r => roles.includes(r));
}

function home() {
  const first = NAV.find(([, , roles]) => allowed(roles));
  return first ? first[0] : '/directory';
}

function parse(hash) {
  const raw = hash.startsWith('#/') ? hash.slice(1) : '/';
  const [path, query] = raw.split('?');
  const parts = path.split('/').filter(Boolean);
  for (const [pattern, view, roles] of ROUTES) {
    const pp = pattern.split('/').filter(Boolean);
    if (pp.length !== parts.length) continue;
    const params = {};
    if (pp.every((p, i) => (p.startsWith(':') ? (params[p.slice(1)] = decodeURIComponent(parts[i]), true) : p === parts[i])))
      return { path, pattern, view, roles, params, query: new URLSearchParams(query || '') };
  }
  return null;
}

export function go(path) {
  if (location.hash === '#' + path) render();
  else location.hash = path;
}

function renderNav() {
  const nav = clear(document.getElementById('nav'));
  const current = (location.hash.slice(1) || '/').split('?')[0];
  if (!state.user) return;
  nav.append(h('ul', {}, NAV.filter(([, , roles]) => allowed(roles)).map(([path, key]) =>
    h('li', {}, h('a', { href: '#' + path, 'aria-current': current.startsWith(path) ? 'page' : null }, t(key))))));
  document.getElementById('who').textContent = state.user.name || state.user.uid;
  document.getElementById('signout').hidden = false;
}

function signedOut() {
  state.user = null;
  clear(document.getElementById('nav'));
  document.getElementById('who').textContent = '';
  document.getElementById('signout').hidden = true;
}

async function render() {
  const token = ++state.rendering;
  const m = main();
  renderNav();
  if (!state.user) {
    clear(m);
    await login(m, { signedIn });
    return;
  }
  let route = parse(location.hash);
  if (!route) {
    history.replaceState(null, '', '#' + home());
    route = parse(location.hash);
  }
  if (!route || !allowed(route.roles)) {
    clear(m).append(h('h1', { tabindex: '-1' }, t('error.forbidden')));
    return;
  }
  const next = h('div', { class: 'view' });
  try {
    await route.view(next, { user: state.user, params: route.params, query: route.query, go, refresh: render });
  } catch (err) {
    next.append(h('div', { class: 'error-state', role: 'alert' }, h('p', {}, err.message || String(err)),
      h('button', { type: 'button', onclick: render }, t('retry'))));
  }
  if (token !== state.rendering) return;	// the user went elsewhere meanwhile
  clear(m).append(next);
  const heading = m.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
    document.title = heading.textContent + ' · korpu';
  }
}

function signedIn(user) {
  state.user = user;
  if (!parse(location.hash)) history.replaceState(null, '', '#' + home());
  render();
}

function banner(text, retry) {
  const b = clear(document.getElementById('banner'));
  b.hidden = !text;
  if (!text) return;
  b.append(h('p', {}, text));
  if (retry) b.append(h('button', { type: 'button', onclick: () => { banner(null); render(); } }, t('retry')));
}

async function boot() {
  await setLang(preferred(), false);
  const select = document.getElementById('lang');
  select.value = document.documentElement.lang;
  select.addEventListener('change', async () => {
    await setLang(select.value, true);
    render();
  });
  document.getElementById('signout').addEventListener('click', async () => {
    try {
      await post('/logout');
    } catch (e) { /* the session is gone either way */ }
    signedOut();
    history.replaceState(null, '', '#/');
    render();
  });
  on('unauthorized', () => {
    if (!state.user) return;
    signedOut();
    banner(t('banner.expired'));
    render();
  });
  on('unavailable', err => banner(err.retryAfter ? t('banner.unavailable_in', { s: err.retryAfter }) : t('banner.unavailable'), true));
  on('offline', () => banner(t('banner.offline'), true));
  on('ok', () => banner(null));
  window.addEventListener('hashchange', render);
  try {
    state.user = await get('/me', { quiet401: true });
  } catch (e) {
    state.user = null;
  }
  translateStatic(document);
  render();
}

boot();
