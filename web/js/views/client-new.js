// Register a client, with consent per area recorded in the same step.
import { h, add } from '../dom.js';
import { t } from '../i18n.js';
import { post, put } from '../api.js';
import { field, submitting } from '../form.js';
import { clientFields, clientBody } from '../client-fields.js';
import { loadAreas, loadRegions, areaTitle } from '../areas.js';

export default async function clientNew(view, ctx) {
  const [areas, regions] = await Promise.all([loadAreas(), loadRegions()]);
  const f = clientFields(regions);
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
    const body = clientBody(f);
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
