// The admin API as the dashboard uses it: the token given at login lives in
// sessionStorage (gone when the tab closes) and goes out as a Bearer header.
// Every error becomes an ApiError carrying the server's code and message
// (docs/protocol.md P-3), so pages can show what the server said.

const TOKEN_KEY = 'tinymlops.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// Called with the ApiError when the server no longer accepts the token (401).
let onUnauthorized = () => {};
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

// A query string from an object, skipping empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    throw new ApiError(0, 'network', `server unreachable (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    const e = new ApiError(res.status, err.code || `http_${res.status}`, err.message || res.statusText);
    if (res.status === 401) onUnauthorized(e);
    throw e;
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const patch = (path, body) => api('PATCH', path, body);

// Every page of a paginated list (limit/offset with a total), up to max items.
export async function getAll(path, key, params = {}, max = 10000) {
  const items = [];
  const limit = 1000;
  for (let offset = 0; offset < max; offset += limit) {
    const page = await get(path + query({ ...params, limit, offset }));
    const got = page[key] || [];
    items.push(...got);
    if (got.length < limit || items.length >= (page.total ?? Infinity)) break;
  }
  return items;
}
