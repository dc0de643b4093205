// A client's page: details, consent per area, referrals with their
// history, appointments (reschedule, cancel, .ics).
import { h, add, name, clear } from '../dom.js';
import { t, fmtDate, fmtTime } from '../i18n.js';
import { get, post, put, qs } from '../api.js';
import { field, submitting } from '../form.js';
import { loadAreas, areaTitle, statusLabel } from '../areas.js';
import { providersById, providerName } from '../providers.js';

const OPEN = ['sent', 'accepted'];

export default async function clientPage(view, ctx) {
  const id = ctx.params.id;
  const enc = encodeURIComponent(id);
  const [client, referrals, appointments, seats, waits, areas] = await Promise.all([
    get('/clients/' + enc), get('/referrals' + qs({ client_id: id, limit: 200 })),
    get('/appointments' + qs({ client_id: id, limit: 200 })), get('/seats' + qs({ client_id: id, limit: 200 })),
    get('/waitlist' + qs({ client_id: id, limit: 200 })), loadAreas()]);
  const providers = await providersById([...referrals.items, ...appointments.items, ...seats.items,
    ...waits.items].map(x => x.provider_id));
  const canWrite = ctx.user.roles.includes('caseworker');

  add(view, h('div', { class: 'title-row' }, h('h1', {}, name(client)),
    canWrite ? h('div', { class: 'actions' }, h('a', { class: 'button', href: `#/clients/${enc}/edit` }, t('client.edit')),
      h('a', { class: 'button primary', href: `#/clients/${enc}/refer` }, t('referral.new'))) : null));
  const notice = ctx.query.get('notice');
  if (notice) {
    // Said once: a reload or a later refresh of this page does not repeat it.
    add(view, h('p', { class: 'notice', role: 'status' }, t(notice)));
    history.replaceState(null, '', `#/clients/${enc}`);
  }
  add(view, details(client), consentSection(client, areas, canWrite, ctx),
    referralSection(referrals.items, providers, areas, canWrite, ctx, waits.items),
    appointmentSection(appointments.items, providers, canWrite, ctx),
    seats.items.length ? seatSection(seats.items, providers) : null,
    waits.items.length ? waitSection(waits.items, providers, canWrite, ctx) : null);
}

// The client's waitlist entries; an offer is answered here.
function waitSection(items, providers, canWrite, ctx) {
  const what = e => {
    const o = e.offer || {};
    if (e.status === 'waiting') return t('wait.position', { n: e.position ?? '—' });
    if (e.status !== 'offered') return '';
    const place = o.start ? fmtTime(o.start, e.timezone) : t('wait.school_place', { year: o.school_year, grade: o.grade });
    return t('wait.offer', { place, until: fmtTime(o.expires_at) });
  };
  return h('section', { class: 'card', 'aria-labelledby': 'sec-waits' },
    h('h2', { id: 'sec-waits' }, t('wait.title')),
    h('table', {}, h('thead', {}, h('tr', {}, ['appointment.provider', 'appointment.status', 'wait.details', 'actions']
      .map(k => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, items.map(e => {
      const actions = h('td', { class: 'actions' });
      const answer = verb => async ev => {
        ev.target.disabled = true;
        try {
          await post(`/waitlist/${encodeURIComponent(e.id)}/${verb}`, {});
          ctx.refresh();
        } catch (err) {
          ev.target.disabled = false;
          actions.append(h('p', { class: 'error', role: 'alert' }, err.message));
        }
      };
      if (canWrite && e.status === 'offered')
        actions.append(h('button', { type: 'button', class: 'primary small', onclick: answer('accept') }, t('wait.accept')),
          h('button', { type: 'button', class: 'small danger', onclick: answer('decline') }, t('wait.decline')));
      return h('tr', {}, h('td', { dir: 'auto' }, providerName(providers, e.provider_id)),
        h('td', {}, h('span', { class: 'badge status-' + e.status }, statusLabel(e.status))),
        h('td', {}, what(e)), actions);
    }))));
}

function seatSection(items, providers) {
  return h('section', { class: 'card', 'aria-labelledby': 'sec-seats' },
    h('h2', { id: 'sec-seats' }, t('seat.title')),
    h('table', {}, h('thead', {}, h('tr', {}, ['seat.school', 'seat.year', 'seat.grade', 'appointment.status']
      .map(k => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, items.map(s => h('tr', {}, h('td', { dir: 'auto' }, providerName(providers, s.provider_id)),
      h('td', {}, s.school_year), h('td', {}, String(s.grade)),
      h('td', {}, h('span', { class: 'badge status-' + s.status }, statusLabel(s.status))))))));
}

function details(c) {
  const rows = [
    ['client.registration_no', c.registration_no], ['client.birth_date', fmtDate(c.birth_date)],
    ['client.sex', t('sex.' + c.sex)], ['client.region', c.region],
    ['client.languages', (c.languages || []).join(', ') || '—'],
    ['client.needs_interpreter', c.needs_interpreter ? t('yes') : t('no')],
    ['client.phone', c.phone || '—'], ['client.vulnerabilities', (c.vulnerabilities || []).join(', ') || '—'],
    ['client.household', c.household_id || '—'],
  ];
  return h('section', { class: 'card', 'aria-labelledby': 'sec-details' },
    h('h2', { id: 'sec-details' }, t('client.details')),
    h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, t(k)), h('dd', { dir: 'auto' }, v)])));
}

function consentSection(c, areas, canWrite, ctx) {
  const consent = c.consent || {};
  const yesno = v => (v ? t('yes') : t('no'));
  return h('section', { class: 'card', 'aria-labelledby': 'sec-consent' },
    h('h2', { id: 'sec-consent' }, t('consent.title')),
    h('table', {}, h('thead', {}, h('tr', {}, ['consent.area', 'consent.service', 'consent.share', 'consent.recorded', '']
      .map(k => h('th', { scope: 'col' }, k ? t(k) : h('span', { class: 'visually-hidden' }, t('actions')))))),
    h('tbody', {}, areas.map(a => {
      const x = consent[a.name] || {};
      const row = h('tr', {}, h('th', { scope: 'row' }, areaTitle(a)), h('td', {}, yesno(x.service)),
        h('td', {}, yesno(x.share)),
        h('td', {}, x.recorded_at ? t('consent.by', { who: x.recorded_by, when: fmtTime(x.recorded_at) }) : '—'),
        h('td', {}, canWrite ? h('button', { type: 'button', class: 'small',
          'aria-label': t('consent.change_for', { area: areaTitle(a) }),
          onclick: () => editConsent(row, c, a, x, ctx) }, t('consent.change')) : null));
      return row;
    }))));
}

function editConsent(row, c, a, x, ctx) {
  const service = field({ name: 'service', label: t('consent.service'), kind: 'checkbox', value: x.service });
  const share = field({ name: 'share', label: t('consent.share'), kind: 'checkbox', value: x.share });
  const form = h('form', { class: 'inline' }, service, share,
    h('button', { type: 'submit', class: 'primary small' }, t('save')));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const ok = await submitting(form, () => put(`/clients/${encodeURIComponent(c.id)}/consent/${a.name}`,
      { service: service.control.checked, share: share.control.checked }));
    if (ok) ctx.refresh();
  });
  const cell = clear(row.lastChild);
  cell.append(form);
  service.control.focus();
}

function referralSection(items, providers, areas, canWrite, ctx, waits) {
  const model = area => areas.find(a => a.name === area)?.booking_model;
  const waiting = r => waits.some(e => e.provider_id === r.provider_id && ['waiting', 'offered'].includes(e.status));
  return h('section', { class: 'card', 'aria-labelledby': 'sec-referrals' },
    h('h2', { id: 'sec-referrals' }, t('referral.title')),
    items.length ? h('ul', { class: 'items' }, items.map(r => h('li', { class: 'item' },
      h('div', { class: 'item-head' },
        h('strong', {}, areaTitle(r.area)), ' · ', providerName(providers, r.provider_id), ' · ',
        h('span', { class: 'badge status-' + r.status }, statusLabel(r.status)),
        r.priority === 'urgent' ? h('span', { class: 'badge urgent' }, t('priority.urgent')) : null),
      h('p', { dir: 'auto' }, r.reason || ''),
      h('details', {}, h('summary', {}, t('referral.history')),
        h('ol', { class: 'history' }, (r.history || []).map(x => h('li', {},
          fmtTime(x.at), ' — ', statusLabel(x.to), ' (', x.actor, ')', x.note ? h('q', { dir: 'auto' }, x.note) : null)))),
      canWrite ? referralActions(r, model(r.area), ctx, waiting(r)) : null))) : h('p', {}, t('referral.none')));
}

function referralActions(r, model, ctx, onWaitlist) {
  const out = h('div', { class: 'actions' });
  const enc = encodeURIComponent(r.id);
  // A scheduled referral books again: a follow-up, or after a cancellation.
  if ((r.status === 'accepted' || r.status === 'scheduled') && (model === 'slot' || model === 'session'))
    out.append(h('a', { class: 'button primary small', href: '#/book/' + enc }, t('referral.book')));
  if (r.status === 'accepted' && model === 'seat')
    out.append(h('a', { class: 'button primary small', href: '#/book/' + enc }, t('referral.seat')));
  if (r.status === 'scheduled' && model === 'seat')
    out.append(h('a', { class: 'button small', href: '#/book/' + enc }, t('referral.intake')));
  if (OPEN.includes(r.status) && model === 'waitlist' && !onWaitlist) {
    out.append(h('button', { type: 'button', class: 'small', onclick: async ev => {
      ev.target.disabled = true;
      try {
        await post('/waitlist', { provider_id: r.provider_id, client_id: r.client_id, referral_id: r.id,
          priority: r.priority === 'urgent' ? 10 : 0 });
        ctx.go(`/clients/${encodeURIComponent(r.client_id)}?notice=waitlist.joined`);
      } catch (err) {
        ev.target.disabled = false;
        out.append(h('p', { class: 'error', role: 'alert' }, err.message));
      }
    } }, t('referral.waitlist')));
  }
  if (OPEN.includes(r.status)) {
    out.append(h('button', { type: 'button', class: 'small danger', onclick: async ev => {
      ev.target.disabled = true;
      try {
        await post(`/referrals/${enc}/transition`, { to: 'cancelled', note: t('referral.cancelled_note') });
        ctx.refresh();
      } catch (err) {
        ev.target.disabled = false;
        out.append(h('p', { class: 'error', role: 'alert' }, err.message));
      }
    } }, t('referral.cancel')));
  }
  return out;
}

function appointmentSection(items, providers, canWrite, ctx) {
  return h('section', { class: 'card', 'aria-labelledby': 'sec-appointments' },
    h('h2', { id: 'sec-appointments' }, t('appointment.title')),
    items.length ? h('table', {},
      h('thead', {}, h('tr', {}, ['appointment.when', 'appointment.provider', 'appointment.status', 'actions']
        .map(k => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, items.map(a => appointmentRow(a, providers, canWrite, ctx)))) : h('p', {}, t('appointment.none')));
}

function appointmentRow(a, providers, canWrite, ctx) {
  const enc = encodeURIComponent(a.id);
  const actions = h('td', { class: 'actions' },
    h('a', { href: `/api/v1/appointments/${enc}.ics`, download: `korpu-${a.id}.ics` }, t('appointment.ics')));
  if (canWrite && a.status === 'booked') {
    actions.append(h('a', { class: 'button small', href: '#/reschedule/' + enc }, t('appointment.reschedule')),
      h('button', { type: 'button', class: 'small danger', onclick: () => cancelForm(actions, a, ctx) },
        t('appointment.cancel')));
  }
  return h('tr', {}, h('td', {}, fmtTime(a.start, a.timezone)), h('td', {}, providerName(providers, a.provider_id)),
    h('td', {}, h('span', { class: 'badge status-' + a.status }, statusLabel(a.status))), actions);
}

function cancelForm(cell, a, ctx) {
  if (cell.querySelector('form')) return;
  const reason = field({ name: 'reason', label: t('appointment.cancel_reason'), required: true });
  const form = h('form', { class: 'inline', novalidate: true }, reason,
    h('button', { type: 'submit', class: 'danger small' }, t('appointment.cancel_confirm')));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const ok = await submitting(form, () => post(`/appointments/${encodeURIComponent(a.id)}/cancel`,
      { reason: reason.control.value.trim() }));
    if (ok) ctx.refresh();
  });
  cell.append(form);
  reason.control.focus();
}
