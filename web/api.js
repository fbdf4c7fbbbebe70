// api.js: the /v1 API from the page: same origin, the session cookie,
// X-CSRF-Token on every change. Errors are thrown as ApiError with the
// API's own message (and line/column for a template's error); a 401 on
// anything but the login itself sends the page to the login.

const TIMEOUT_MS = 30000;
const MAX_BODY = 8 * 1024 * 1024; // an answer above this is refused

let csrf = null;
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.status = status;
    this.line = detail && Number.isInteger(detail.line) ? detail.line : null;
    this.column = detail && Number.isInteger(detail.column) ? detail.column : null;
  }
}

export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function setCsrf(token) {
  csrf = token;
}

export async function api(method, path, body, options = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store',
    redirect: 'error' };
  if (method !== 'GET' && method !== 'HEAD' && csrf)
    headers['X-CSRF-Token'] = csrf;
  if (body !== undefined && body !== null) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  init.signal = options.signal || abort.signal;
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError' && !options.signal)
      throw new ApiError(0, `${method} ${path}: no answer from pcipassd in ${TIMEOUT_MS / 1000} s`);
    if (e.name === 'AbortError')
      throw e;
    throw new ApiError(0, `${method} ${path}: pcipassd cannot be reached (${e.message})`);
  } finally {
    clearTimeout(timer);
  }
  const raw = await res.text();
  if (raw.length > MAX_BODY)
    throw new ApiError(res.status, `${method} ${path}: the answer is too large (${raw.length} bytes)`);
  let json = null;
  if (raw.length > 0) {
    try {
      json = JSON.parse(raw);
    } catch {
      json = null;
    }
  }
  if (!res.ok) {
    const err = json && json.error;
    const message = err && typeof err === 'object' ? err.message :
      typeof err === 'string' ? err : `${method} ${path}: HTTP ${res.status}`;
    if (res.status === 401 && !options.login)
      onUnauthorized(message);
    throw new ApiError(res.status, message, err && typeof err === 'object' ? err : null);
  }
  return json;
}

export const get = (path, options) => api('GET', path, undefined, options);
export const post = (path, body, options) => api('POST', path, body === undefined ? null : body, options);
export const put = (path, body) => api('PUT', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

// Every page of a paged list ({KEY: [...], next: ID|null}).
export async function getAll(path, key, maxPages = 50) {
  const rows = [];
  let after = 0;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(`${path}${sep}limit=1000${after ? `&after=${after}` : ''}`);
    rows.push(...(page[key] || []));
    if (page.next === null || page.next === undefined)
      break;
    after = page.next;
  }
  return rows;
}

export const enc = encodeURIComponent;

// The session: {user, admin, csrf}, or null when not logged in.
export async function currentSession() {
  try {
    const s = await api('GET', '/v1/session', undefined, { login: true });
    setCsrf(s.csrf);
    return s;
  } catch (e) {
    if (e.status === 401)
      return null;
    throw e;
  }
}

export async function login(token) {
  const s = await api('POST', '/v1/session', { token }, { login: true });
  setCsrf(s.csrf);
  return s;
}

export async function logout() {
  try {
    await api('DELETE', '/v1/session', undefined, { login: true });
  } finally {
    setCsrf(null);
  }
}
