// A provider organization's referrals: accept, decline with a reason,
// complete. korpud shows provider staff only their organization's.
import { h, add, name } from '../dom.js';
import { t, fmtTime } from '../i18n.js';
import { get, post, qs } from '../api.js';
import { field, submitting } from '../form.js';
import { areaTitle, fieldLabel, enumLabel, statusLabel, loadAreas } from '../areas.js';
import { providersById, providerName } from '../providers.js';

const STATUSES = ['sent', 'accepted', 'scheduled', 'completed', 'declined', 'no_show', 'cancelled', 'expired'];

export default async function inbox(view, ctx) {
  const status = ctx.query.get('status') || 'sent';
  const cursor = ctx.query.get('cursor') || '';
  const [page, areas] = await Promise.all([get('/referrals' + qs({ status, limit: 20, cursor })), loadAreas()]);
  const full = await Promise.all(page.items.map(r => get('/referrals/' + encodeURIComponent(r.id)).catch(() => r)));
  const providers = await providersById(full.map(r => r.provider_id));
  const filter = field({ name: 'status', label: t('inbox.show'), kind: 'select', value: status,
    options: STATUSES.map(s => ({ value: s, label: statusLabel(s) })) });
  filter.control.addEventListener('change', () => ctx.go('/inbox' + qs({ status: filter.control.value })));

  add(view, h('h1', {}, t('inbox.title')), h('div', { class: 'toolbar' }, filter),
    full.length ? h('ul', { class: 'items' }, full.map(r => referralItem(r, areas, providers, ctx)))
      : h('p', {}, t('inbox.empty')),
    page.next_cursor ? h('a', { class: 'button', href: '#/inbox' + qs({ status, cursor: page.next_cursor }) }, t('more')) : null);
}

function referralItem(r, areas, providers, ctx) {
  const area = areas.find(a => a.name === r.area);
  const facts = (area?.fields || []).filter(f => r.fields && r.fields[f.name] !== undefined)
    .map(f => [h('dt', {}, fieldLabel(r.area, f)),
      h('dd', { dir: 'auto' }, f.type === 'enum' ? enumLabel(r.fields[f.name]) :
        f.type === 'boolean' ? (r.fields[f.name] ? t('yes') : t('no')) : String(r.fields[f.name]))]);
  const actions = h('div', { class: 'actions' });
  const li = h('li', { class: 'item' },
    h('div', { class: 'item-head' }, r.client ? name(r.client) : h('span', {}, '—'), ' · ',
      h('strong', {}, areaTitle(r.area)), ' · ', providerName(providers, r.provider_id), ' · ',
      h('span', { class: 'badge status-' + r.status }, statusLabel(r.status)),
      r.priority === 'urgent' ? h('span', { class: 'badge urgent' }, t('priority.urgent')) : null),
    h('p', { class: 'muted' }, t('inbox.sent_at', { when: fmtTime(r.created_at) }),
      r.deadline_at && r.status === 'sent' ? ' · ' + t('inbox.answer_by', { when: fmtTime(r.deadline_at) }) : ''),
    h('p', { dir: 'auto' }, r.reason || ''),
    facts.length ? h('dl', { class: 'facts' }, facts) : null, actions);
  const move = (to, note) => post(`/referrals/${encodeURIComponent(r.id)}/transition`, { to, note });
  const label = r.client ? [r.client.given_name, r.client.family_name].filter(Boolean).join(' ') : r.id;
  if (r.status === 'sent') {
    actions.append(
      h('button', { type: 'button', class: 'primary small', 'aria-label': t('inbox.accept_for', { who: label }),
        onclick: ev => act(ev.target, actions, () => move('accepted', null), ctx) }, t('inbox.accept')),
      h('button', { type: 'button', class: 'small danger', 'aria-label': t('inbox.decline_for', { who: label }),
        onclick: () => declineForm(actions, move, ctx) }, t('inbox.decline')));
  }
  if (r.status === 'scheduled') {
    actions.append(h('button', { type: 'button', class: 'small', 'aria-label': t('inbox.complete_for', { who: label }),
      onclick: ev => act(ev.target, actions, () => move('completed', null), ctx) }, t('inbox.complete')));
  }
  return li;
}

async function act(button, where, fn, ctx) {
  button.disabled = true;
  try {
    await fn();
    ctx.refresh();
  } catch (err) {
    button.disabled = false;
    where.append(h('p', { class: 'error', role: 'alert' }, err.message));
  }
}

function declineForm(where, move, ctx) {
  if (where.querySelector('form')) return;
  const reason = field({ name: 'note', label: t('inbox.decline_reason'), kind: 'textarea', required: true,
    attrs: { rows: 2, dir: 'auto' } });
  const form = h('form', { class: 'inline', novalidate: true }, reason,
    h('button', { type: 'submit', class: 'danger small' }, t('inbox.decline_confirm')));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const note = reason.control.value.trim();
    if (!note) {
      reason.control.setAttribute('aria-invalid', 'true');
      document.getElementById(reason.control.id + '-err').textContent = t('inbox.reason_needed');
      reason.control.focus();
      return;
    }
    const ok = await submitting(form, () => move('declined', note));
    if (ok) ctx.refresh();
  });
  where.append(form);
  reason.control.focus();
}
