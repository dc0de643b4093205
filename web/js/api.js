// api.js: every call to korpud. Sessions ride on the HttpOnly cookie the
// sign-in sets; no token is ever kept in script-readable storage.
import { t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.errors = this.problem.errors || [];
    this.retryAfter = null;
  }
}

const listeners = { unauthorized: [], unavailable: [], offline: [], ok: [] };
export function on(event, fn) {
  listeners[event].push(fn);
}
function emit(event, arg) {
  for (const fn of listeners[event]) fn(arg);
}

let pending = 0;
function busy(delta) {
  pending += delta;
  document.getElementById('main')?.setAttribute('aria-busy', pending > 0 ? 'true' : 'false');
  document.body.classList.toggle('busy', pending > 0);
}

// api('POST', '/referrals', body) -> parsed JSON (or text for CSV).
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: opts.accept || 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let r;
  busy(1);
  try {
    r = await fetch('/api/v1' + path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    emit('offline');
    const err = new ApiError(0, { detail: t('error.offline') });
    throw err;
  } finally {
    busy(-1);
  }
  if (r.status === 204) {
    emit('ok');
    return null;
  }
  const type = r.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await r.json().catch(() => null) : await r.text();
  if (r.ok) {
    emit('ok');
    return data;
  }
  const err = new ApiError(r.status, typeof data === 'object' ? data : { detail: String(data) });
  if (r.status === 503) {
    err.retryAfter = Number(r.headers.get('Retry-After')) || null;
    emit('unavailable', err);
  } else if (r.status === 401 && !opts.quiet401) {
    emit('unauthorized', err);
  }
  throw err;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body) => api('POST', path, body ?? {});
export const put = (path, body) => api('PUT', path, body);
export const patch = (path, body) => api('PATCH', path, body);

// '/referrals' + qs({area: 'x', status: ''}) -> '/referrals?area=x'
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}
