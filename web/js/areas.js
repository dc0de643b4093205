// areas.js: the service areas and regions, read once per sign-in, and
// the words for them in the interface language.
import { get } from './api.js';
import { t, has } from './i18n.js';

let areas = null;
let regions = null;

export async function loadAreas() {
  areas = areas || await get('/areas');
  return areas;
}

export async function loadRegions() {
  regions = regions || await get('/regions');
  return regions;
}

export function forget() {
  areas = regions = null;
}

// An area's title: our translation, else the plugin's own title.
export function areaTitle(area) {
  const name = typeof area === 'string' ? area : area.name;
  if (has('area.' + name)) return t('area.' + name);
  return (areas || []).find(a => a.name === name)?.title || name;
}

// A plugin field's label and an enum value's words, translated where we
// have them; a partner's plugin brings its own English.
export function fieldLabel(area, f) {
  const key = `field.${area}.${f.name}`;
  return has(key) ? t(key) : f.label;
}

export function enumLabel(value) {
  const key = 'enum.' + value;
  return has(key) ? t(key) : value.replace(/_/g, ' ');
}

export function statusLabel(status) {
  return t('status.' + status);
}
