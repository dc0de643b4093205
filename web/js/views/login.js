// Sign-in: korpud answers with the user and sets the session cookie.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { post } from '../api.js';
import { field, submitting } from '../form.js';

export default async function login(main, { signedIn }) {
  const user = field({ name: 'username', label: t('login.username'), required: true,
    attrs: { autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' } });
  const pass = field({ name: 'password', label: t('login.password'), kind: 'password', required: true,
    attrs: { autocomplete: 'current-password' } });
  const form = h('form', { class: 'card narrow', novalidate: true },
    user, pass, h('button', { type: 'submit', class: 'primary' }, t('login.submit')));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const body = { username: user.control.value.trim(), password: pass.control.value };
    const res = await submitting(form, async () => {
      try {
        return await post('/login', body);
      } catch (err) {
        if (err.status === 401) err.errors = [{ field: 'password', message: t('login.wrong') }];
        if (err.status === 429) err.errors = [{ field: 'username', message: t('login.throttled') }];
        throw err;
      }
    });
    if (res) signedIn(res.user);
    else pass.control.value = '';
  });
  main.append(h('h1', { tabindex: '-1' }, t('login.title')), form);
  user.control.focus();
}
