// Register a client, with consent per area recorded in the same step.
import { h, add } from '../dom.js';
import { t } from '../i18n.js';
import { post, put } from '../api.js';
import { field, valueOf, list, submitting } from '../form.js';
import { loadAreas, loadRegions, areaTitle } from '../areas.js';

export default async function clientNew(view, ctx) {
  const [areas, regions] = await Promise.all([loadAreas(), loadRegions()]);
  const f = {
    registration_no: field({ name: 'registration_no', label: t('client.registration_no'), required: true }),
    given_name: field({ name: 'given_name', label: t('client.given_name'), required: true, attrs: { dir: 'auto' } }),
    family_name: field({ name: 'family_name', label: t('client.family_name'), required: true, attrs: { dir: 'auto' } }),
    birth_date: field({ name: 'birth_date', label: t('client.birth_date'), kind: 'date', required: true }),
    sex: field({ name: 'sex', label: t('client.sex'), kind: 'select', required: true, value: 'unknown',
      options: ['female', 'male', 'other', 'unknown'].map(v => ({ value: v, label: t('sex.' + v) })) }),
    region: field({ name: 'region', label: t('client.region'), kind: 'select', required: true,
      options: regions.map(r => ({ value: r, label: r })) }),
    languages: field({ name: 'languages', label: t('client.languages'), hint: t('client.languages_hint') }),
    needs_interpreter: field({ name: 'needs_interpreter', label: t('client.needs_interpreter'), kind: 'checkbox' }),
    phone: field({ name: 'phone', label: t('client.phone'), kind: 'tel', attrs: { autocomplete: 'off' } }),
    vulnerabilities: field({ name: 'vulnerabilities', label: t('client.vulnerabilities'), hint: t('client.list_hint') }),
  };
  const consent = areas.map(a => ({
    area: a.name,
    service: field({ name: `consent.${a.name}.service`, label: t('consent.service'), kind: 'checkbox' }),
    share: field({ name: `consent.${a.name}.share`, label: t('consent.share'), kind: 'checkbox' }),
  }));
  const form = h('form', { class: 'card', novalidate: true },
    h('div', { class: 'grid' }, Object.values(f)),
    h('fieldset', {}, h('legend', {}, t('consent.title')),
      h('p', { class: 'hint' }, t('consent.hint')),
      consent.map(c => h('fieldset', { class: 'consent' }, h('legend', {}, areaTitle(c.area)), c.service, c.share))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('client.register')),
      h('a', { href: '#/clients' }, t('cancel'))));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const body = {};
    for (const [k, w] of Object.entries(f)) {
      const v = valueOf(w.control);
      if (v !== undefined) body[k] = k === 'languages' || k === 'vulnerabilities' ? list(v) : v;
    }
    const client = await submitting(form, async () => {
      const c = await post('/clients', body);
      for (const x of consent) {
        const service = x.service.control.checked, share = x.share.control.checked;
        if (service || share) await put(`/clients/${encodeURIComponent(c.id)}/consent/${x.area}`, { service, share });
      }
      return c;
    });
    if (client) ctx.go('/clients/' + encodeURIComponent(client.id));
  });
  add(view, h('h1', {}, t('client.new_title')), form);
}
