// A provider's day: the appointments of one date, and attendance marked
// as people come (arrived, attended, no-show).
import { h, add, name } from '../dom.js';
import { t, fmtDate, fmtTime } from '../i18n.js';
import { get, post, qs } from '../api.js';
import { field } from '../form.js';
import { statusLabel, areaTitle } from '../areas.js';
import { providersById, providerName } from '../providers.js';

function shift(date, n) {
  const d = new Date(date + 'T12:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export default async function day(view, ctx) {
  const date = ctx.query.get('date') || new Intl.DateTimeFormat('en-CA').format(new Date());
  const scoped = ctx.user.roles.includes('provider');
  const chosen = ctx.query.get('provider_id') || '';
  const directory = scoped ? null : await get('/providers' + qs({ limit: 500 }));
  const pick = scoped ? null : field({ name: 'provider_id', label: t('day.provider'), kind: 'select', value: chosen,
    options: [{ value: '', label: t('choose') }, ...directory.items.map(p => ({ value: p.id, label: p.name }))] });
  const dateField = field({ name: 'date', label: t('day.date'), kind: 'date', value: date });
  const go = over => ctx.go('/day' + qs({ date, provider_id: chosen, ...over }));
  dateField.control.addEventListener('change', () => go({ date: dateField.control.value }));
  pick?.control.addEventListener('change', () => go({ provider_id: pick.control.value }));

  add(view, h('h1', {}, t('day.title', { date: fmtDate(date, { dateStyle: 'full', timeZone: 'UTC' }) })),
    h('div', { class: 'toolbar' }, pick, dateField,
      h('a', { class: 'button small', href: '#/day' + qs({ date: shift(date, -1), provider_id: chosen }) }, t('day.prev')),
      h('a', { class: 'button small', href: '#/day' + qs({ date: shift(date, 1), provider_id: chosen }) }, t('day.next'))));
  if (!scoped && !chosen) {
    add(view, h('p', {}, t('day.choose_provider')));
    return;
  }
  const list = await get('/appointments' + qs({ provider_id: chosen, from: date, to: date, limit: 500 }));
  const items = list.items.filter(a => a.start.slice(0, 10) === date).sort((a, b) => a.start.localeCompare(b.start));
  const [providers, referrals] = await Promise.all([providersById(items.map(a => a.provider_id)),
    Promise.all(items.map(a => a.referral_id ? get('/referrals/' + encodeURIComponent(a.referral_id)).catch(() => null) : null))]);
  if (!items.length) {
    add(view, h('p', {}, t('day.empty')));
    return;
  }
  add(view, h('table', {},
    h('thead', {}, h('tr', {}, ['day.time', 'client.name', 'appointment.provider', 'appointment.status', 'actions']
      .map(k => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, items.map((a, i) => row(a, referrals[i], providers, ctx)))));
}

function row(a, referral, providers, ctx) {
  const who = referral?.client ? name(referral.client) : h('span', { class: 'muted' }, t('day.no_referral'));
  const whoText = referral?.client ? [referral.client.given_name, referral.client.family_name].join(' ') : a.id;
  const actions = h('td', { class: 'actions' });
  const mark = status => async ev => {
    ev.target.disabled = true;
    try {
      await post(`/appointments/${encodeURIComponent(a.id)}/status`, { status });
      ctx.refresh();
    } catch (err) {
      ev.target.disabled = false;
      actions.append(h('p', { class: 'error', role: 'alert' }, err.message));
    }
  };
  const next = { booked: ['arrived', 'fulfilled', 'noshow'], arrived: ['fulfilled', 'noshow'] }[a.status] || [];
  for (const s of next)
    actions.append(h('button', { type: 'button', class: s === 'fulfilled' ? 'small primary' : 'small',
      'aria-label': t('day.mark_for', { what: t('day.mark.' + s), who: whoText }), onclick: mark(s) }, t('day.mark.' + s)));
  return h('tr', {}, h('td', {}, fmtTime(a.start, a.timezone, { timeStyle: 'short' })), h('td', {}, who),
    h('td', {}, providerName(providers, a.provider_id), h('br'), h('span', { class: 'muted' }, areaTitle(a.area))),
    h('td', {}, h('span', { class: 'badge status-' + a.status }, statusLabel(a.status))), actions);
}
