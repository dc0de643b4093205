// Correct a client's record: a misspelt name, a mistyped registration
// number, a new phone. Only what changed is sent.
import { h, add, name } from '../dom.js';
import { t } from '../i18n.js';
import { get, patch } from '../api.js';
import { submitting } from '../form.js';
import { clientFields, clientBody, changedMembers } from '../client-fields.js';

export default async function clientEdit(view, ctx) {
  const enc = encodeURIComponent(ctx.params.id);
  const client = await get('/clients/' + enc);
  const f = clientFields(null, client);
  const form = h('form', { class: 'card', novalidate: true },
    h('div', { class: 'grid' }, Object.values(f).filter(Boolean)),
    h('p', { class: 'hint' }, t('client.region_fixed', { region: client.region })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('client.save')),
      h('a', { href: `#/clients/${enc}` }, t('cancel'))));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const changes = changedMembers(client, clientBody(f));
    if (!Object.keys(changes).length) {
      ctx.go(`/clients/${enc}`);
      return;
    }
    const saved = await submitting(form, async () => {
      try {
        return await patch('/clients/' + enc, changes);
      } catch (err) {
        // Another client has the number: say so at the number.
        if (err.status === 409 && err.problem.client_id)
          err.errors = [{ field: 'registration_no', message: 'a client with this registration number exists' }];
        throw err;
      }
    });
    if (saved) ctx.go(`/clients/${enc}?notice=client.saved`);
  });
  add(view, h('h1', {}, t('client.edit_title'), ' ', name(client)), form);
}
