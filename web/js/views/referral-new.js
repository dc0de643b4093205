// A referral: the area's own fields are rendered from its schema
// (GET /api/v1/areas), and the plugin's 422 messages appear at them.
import { h, add, name } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, qs } from '../api.js';
import { field, valueOf, submitting } from '../form.js';
import { loadAreas, areaTitle, fieldLabel, enumLabel } from '../areas.js';

export function schemaField(area, f) {
  const label = fieldLabel(area, f);
  const common = { name: 'fields.' + f.name, label, required: f.required };
  switch (f.type) {
  case 'integer':
    return field({ ...common, kind: 'number', attrs: { min: f.min, max: f.max, step: 1 } });
  case 'boolean':
    return field({ ...common, kind: 'checkbox' });
  case 'date':
    return field({ ...common, kind: 'date' });
  case 'enum':
    return field({ ...common, kind: 'select', options: [{ value: '', label: t('choose') },
      ...f.enum.map(v => ({ value: v, label: enumLabel(v) }))] });
  default:
    return field({ ...common, attrs: { dir: 'auto' } });
  }
}

export default async function referralNew(view, ctx) {
  const cid = ctx.params.id;
  const [client, areas] = await Promise.all([get('/clients/' + encodeURIComponent(cid)), loadAreas()]);
  const chosen = ctx.query.get('area') || areas[0]?.name;
  const area = areas.find(a => a.name === chosen) || areas[0];
  const providers = await get('/providers' + qs({ area: area.name, region: client.region, limit: 200 }));

  const areaSel = field({ name: 'area', label: t('referral.area'), kind: 'select', required: true, value: area.name,
    options: areas.map(a => ({ value: a.name, label: areaTitle(a) })) });
  areaSel.control.addEventListener('change', () =>
    ctx.go(`/clients/${encodeURIComponent(cid)}/refer?area=${encodeURIComponent(areaSel.control.value)}`));
  const provider = field({ name: 'provider_id', label: t('referral.provider'), kind: 'select',
    hint: t('referral.provider_hint'),
    options: [{ value: '', label: t('referral.provider_auto') },
      ...providers.items.map(p => ({ value: p.id, label: p.name }))] });
  const priority = field({ name: 'priority', label: t('referral.priority'), kind: 'select', value: 'routine',
    options: ['routine', 'urgent'].map(v => ({ value: v, label: t('priority.' + v) })) });
  const reason = field({ name: 'reason', label: t('referral.reason'), kind: 'textarea', required: true,
    attrs: { dir: 'auto', rows: 3 } });
  const extra = area.fields.map(f => ({ f, w: schemaField(area.name, f) }));
  const consent = (client.consent || {})[area.name] || {};

  const form = h('form', { class: 'card', novalidate: true },
    h('div', { class: 'grid' }, areaSel, provider, priority), reason,
    extra.length ? h('fieldset', {}, h('legend', {}, t('referral.area_fields', { area: areaTitle(area) })),
      h('div', { class: 'grid' }, extra.map(x => x.w))) : null,
    consent.share ? null : h('p', { class: 'warning', role: 'note' }, t('referral.no_consent')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('referral.send')),
      h('a', { href: '#/clients/' + encodeURIComponent(cid) }, t('cancel'))));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const fields = {};
    for (const { f, w } of extra) {
      const v = valueOf(w.control);
      if (v !== undefined) fields[f.name] = v;
    }
    const body = { client_id: cid, area: area.name, priority: priority.control.value,
      reason: reason.control.value.trim(), fields };
    if (provider.control.value) body.provider_id = provider.control.value;
    const made = await submitting(form, () => post('/referrals', body));
    if (made) ctx.go(`/clients/${encodeURIComponent(cid)}?notice=referral.sent`);
  });
  add(view, h('h1', {}, t('referral.new_for'), ' ', name(client)), form);
}
