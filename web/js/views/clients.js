// Find a client by name or registration number.
import { h, add, name } from '../dom.js';
import { t, fmtDate } from '../i18n.js';
import { get, qs } from '../api.js';
import { field, submitting } from '../form.js';

export default async function clients(view, ctx) {
  const q = ctx.query.get('q') || '';
  const search = field({ name: 'q', label: t('clients.search'), kind: 'search', value: q,
    hint: t('clients.search_hint'), attrs: { autocomplete: 'off' } });
  const form = h('form', { class: 'inline', role: 'search' }, search,
    h('button', { type: 'submit' }, t('clients.search_button')));
  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    ctx.go('/clients' + qs({ q: search.control.value.trim() }));
  });
  add(view, h('div', { class: 'title-row' }, h('h1', {}, t('clients.title')),
    ctx.user.roles.includes('caseworker') ? h('a', { class: 'button primary', href: '#/clients/new' }, t('clients.new')) : null),
  form, results);
  if (!q) return;
  const found = await submitting(form, () => get('/clients' + qs({ q })));
  if (!found) return;
  results.append(h('p', {}, t('clients.found', { n: found.items.length })));
  if (!found.items.length) return;
  results.append(h('table', {},
    h('thead', {}, h('tr', {}, ['client.name', 'client.registration_no', 'client.birth_date', 'client.region']
      .map(k => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, found.items.map(c => h('tr', {},
      h('td', {}, h('a', { href: '#/clients/' + encodeURIComponent(c.id) }, name(c))),
      h('td', {}, c.registration_no), h('td', {}, fmtDate(c.birth_date)), h('td', {}, c.region))))));
}
