// The service directory, read-only: organizations and their providers.
import { h, add } from '../dom.js';
import { t } from '../i18n.js';
import { get, qs } from '../api.js';
import { areaTitle, loadAreas } from '../areas.js';

export default async function directory(view) {
  const [orgs, providers] = await Promise.all([get('/organizations' + qs({ limit: 500 })),
    get('/providers' + qs({ limit: 500 })), loadAreas()]);
  const orgName = id => orgs.items.find(o => o.id === id)?.name || id;
  add(view, h('h1', {}, t('directory.title')),
    h('section', { class: 'card', 'aria-labelledby': 'dir-providers' }, h('h2', { id: 'dir-providers' }, t('directory.providers')),
      providers.items.length ? h('table', {},
        h('thead', {}, h('tr', {}, ['directory.name', 'referral.area', 'directory.organization', 'client.region',
          'directory.languages', 'directory.address'].map(k => h('th', { scope: 'col' }, t(k))))),
        h('tbody', {}, providers.items.map(p => h('tr', {}, h('td', { dir: 'auto' }, p.name), h('td', {}, areaTitle(p.area)),
          h('td', { dir: 'auto' }, orgName(p.organization)), h('td', {}, p.region), h('td', {}, (p.languages || []).join(', ')),
          h('td', { dir: 'auto' }, p.address || '—'))))) : h('p', {}, t('directory.empty'))),
    h('section', { class: 'card', 'aria-labelledby': 'dir-orgs' }, h('h2', { id: 'dir-orgs' }, t('directory.organizations')),
      h('ul', {}, orgs.items.map(o => h('li', { dir: 'auto' }, o.name, ' ', h('span', { class: 'muted' }, `(${o.kind}, ${o.region})`))))));
}
