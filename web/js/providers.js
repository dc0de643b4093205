// providers.js: provider records by id, fetched once per page view.
import { get } from './api.js';

export async function providersById(ids) {
  const unique = [...new Set(ids.filter(Boolean))];
  const docs = await Promise.all(unique.map(id =>
    get('/providers/' + encodeURIComponent(id)).catch(() => null)));
  const map = new Map();
  unique.forEach((id, i) => map.set(id, docs[i]));
  return map;
}

export function providerName(map, id) {
  return map.get(id)?.name || id || '—';
}
