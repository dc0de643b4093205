// form.js: labelled fields, and korpud's validation errors shown at the
// field they name (a 422's errors[].field), with a summary for the rest.
import { h, clear } from './dom.js';
import { t, has } from './i18n.js';

// korpud's validation messages are English; the frequent ones are said
// in the interface language, the rest as korpud wrote them.
function said(message) {
  return has('server.' + message) ? t('server.' + message) : message;
}

let seq = 0;

// One labelled control. kind: text|number|date|checkbox|select|textarea|search|tel.
// The control carries data-field=name, which is how errors find it.
export function field({ name, label, kind = 'text', required, value, options, hint, attrs }) {
  const id = `f${++seq}-${name.replace(/[^\w-]/g, '-')}`;
  const errId = id + '-err';
  const hintId = hint ? id + '-hint' : null;
  const common = {
    id, name, 'data-field': name, required: !!required,
    'aria-describedby': [hintId, errId].filter(Boolean).join(' '), ...(attrs || {}),
  };
  let control;
  if (kind === 'select') {
    control = h('select', common, (options || []).map(o =>
      h('option', { value: o.value, selected: String(o.value) === String(value ?? '') }, o.label)));
  } else if (kind === 'textarea') {
    control = h('textarea', common);
    control.value = value ?? '';
  } else if (kind === 'checkbox') {
    control = h('input', { ...common, type: 'checkbox', checked: !!value, required: false });
  } else {
    control = h('input', { ...common, type: kind, value: value ?? '' });
  }
  // The required mark sits beside the label, not in it: the field's name
  // stays its label, and "required" is said by the control itself.
  const star = required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null;
  const labelEl = h('label', { for: id }, label);
  const wrap = h('div', { class: kind === 'checkbox' ? 'field check' : 'field' },
    kind === 'checkbox' ? [control, labelEl] : [h('span', { class: 'label-row' }, labelEl, star), control],
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errId }));
  wrap.control = control;
  return wrap;
}

// The value of a control, typed: checkbox -> boolean, number -> integer,
// empty -> undefined (so optional fields are left out).
export function valueOf(control) {
  if (control.type === 'checkbox') return control.checked;
  const v = control.value.trim();
  if (v === '') return undefined;
  if (control.type === 'number') return Number(v);
  return v;
}

export function list(text) {
  return (text || '').split(',').map(s => s.trim()).filter(Boolean);
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.field-error')) clear(el);
  const summary = form.querySelector('.form-summary');
  if (summary) summary.remove();
}

// Shows an ApiError on form: each error at its field where one matches,
// the rest (and the detail) in a summary at the top; focus goes to the
// first field at fault, else to the summary.
export function showErrors(form, err) {
  clearErrors(form);
  const rest = [];
  let first = null;
  for (const e of err.errors || []) {
    const control = findControl(form, e.field);
    if (!control) {
      rest.push(e.field ? `${e.field}: ${said(e.message)}` : said(e.message));
      continue;
    }
    control.setAttribute('aria-invalid', 'true');
    const out = document.getElementById(control.id + '-err');
    if (out) out.textContent = said(e.message);
    first = first || control;
  }
  if (rest.length || !first) {
    const summary = h('div', { class: 'form-summary', role: 'alert', tabindex: '-1' },
      h('p', {}, messageOf(err)), rest.length ? h('ul', {}, rest.map(m => h('li', {}, m))) : null);
    form.prepend(summary);
    if (!first) summary.focus();
  }
  if (first) first.focus();
}

function findControl(form, name) {
  if (!name) return null;
  for (const el of form.querySelectorAll('[data-field]')) if (el.dataset.field === name) return el;
  // "languages[1]" or "hours[0].open": the list's own field.
  const base = name.replace(/\[\d+\].*$/, '');
  for (const el of form.querySelectorAll('[data-field]')) if (el.dataset.field === base) return el;
  return null;
}

// A sentence for an error, in the interface language where we know it.
export function messageOf(err) {
  switch (err.status) {
  case 0: return t('error.offline');
  case 403: return t('error.forbidden');
  case 404: return t('error.notfound');
  case 409: return t('error.conflict', { detail: err.message });
  case 422: return t('error.invalid');
  case 429: return t('error.throttled');
  case 503: return t('error.unavailable');
  default: return err.message || t('error.unknown');
  }
}

// Runs fn while the form's submit button says it is working; errors are
// shown on the form. Returns fn's result, or undefined after an error.
export async function submitting(form, fn) {
  const button = form.querySelector('button[type=submit]');
  const label = button?.textContent;
  if (button) {
    button.disabled = true;
    button.textContent = t('working');
  }
  clearErrors(form);
  try {
    return await fn();
  } catch (err) {
    showErrors(form, err);
    return undefined;
  } finally {
    if (button) {
      button.disabled = false;
      button.textContent = label;
    }
  }
}
