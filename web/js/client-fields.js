// client-fields.js: the fields of a client's record, for registering one
// and for correcting one. values: the record to start from (editing).
import { t } from './i18n.js';
import { field, valueOf, list } from './form.js';

const LISTS = ['languages', 'vulnerabilities'];
const REQUIRED = ['registration_no', 'given_name', 'family_name', 'birth_date', 'sex'];

export function clientFields(regions, values = {}) {
  const joined = k => (values[k] || []).join(', ');
  return {
    registration_no: field({ name: 'registration_no', label: t('client.registration_no'), required: true,
      value: values.registration_no }),
    given_name: field({ name: 'given_name', label: t('client.given_name'), required: true, value: values.given_name,
      attrs: { dir: 'auto' } }),
    family_name: field({ name: 'family_name', label: t('client.family_name'), required: true,
      value: values.family_name, attrs: { dir: 'auto' } }),
    birth_date: field({ name: 'birth_date', label: t('client.birth_date'), kind: 'date', required: true,
      value: values.birth_date }),
    sex: field({ name: 'sex', label: t('client.sex'), kind: 'select', required: true, value: values.sex || 'unknown',
      options: ['female', 'male', 'other', 'unknown'].map(v => ({ value: v, label: t('sex.' + v) })) }),
    // A client's region is where the case is held: it is chosen once.
    region: regions ? field({ name: 'region', label: t('client.region'), kind: 'select', required: true,
      options: regions.map(r => ({ value: r, label: r })) }) : null,
    languages: field({ name: 'languages', label: t('client.languages'), hint: t('client.languages_hint'),
      value: joined('languages') }),
    needs_interpreter: field({ name: 'needs_interpreter', label: t('client.needs_interpreter'), kind: 'checkbox',
      value: values.needs_interpreter }),
    phone: field({ name: 'phone', label: t('client.phone'), kind: 'tel', value: values.phone,
      attrs: { autocomplete: 'off' } }),
    vulnerabilities: field({ name: 'vulnerabilities', label: t('client.vulnerabilities'), hint: t('client.list_hint'),
      value: joined('vulnerabilities') }),
  };
}

// The body the fields say: lists split, empty optional fields left out.
export function clientBody(fields) {
  const body = {};
  for (const [k, w] of Object.entries(fields)) {
    if (!w) continue;
    const v = valueOf(w.control);
    if (v !== undefined) body[k] = LISTS.includes(k) ? list(v) : v;
  }
  return body;
}

// The members of body that differ from the record (a PATCH's body); an
// emptied phone is cleared (null), an emptied list is [], and an emptied
// required field is sent empty, for korpud to say so at the field.
export function changedMembers(record, body) {
  const out = {};
  const keys = new Set([...Object.keys(body), 'phone', ...LISTS, ...REQUIRED]);
  for (const k of keys) {
    let v = body[k];
    if (v === undefined) v = k === 'phone' ? null : LISTS.includes(k) ? [] : REQUIRED.includes(k) ? '' : undefined;
    if (v === undefined) continue;
    if (JSON.stringify(v) !== JSON.stringify(record[k] ?? (LISTS.includes(k) ? [] : null))) out[k] = v;
  }
  return out;
}
