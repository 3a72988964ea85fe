// The public FlaskCart API, as the storefront and the admin console use it: JSON in and out,
// the bearer token from the session, and every failure as an ApiProblem built from the RFC 9457
// problem document the server sent.

const SESSION_KEY = 'flaskcart.session';

// An API failure: status, the problem's title and detail, and field errors (name → message).
export class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title || `Request failed (HTTP ${status})`;
    this.detail = problem.detail || '';
    this.errors = problem.errors && typeof problem.errors === 'object' ? problem.errors : {};
    this.retryAfter = problem.retryAfter || null;
  }
}

// The session is { token, expiresAt (ms), user } in localStorage, so it survives reloads and is
// shared with other tabs (and /docs). README explains why that is acceptable under this CSP.
export function session() {
  try {
    const saved = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
    if (saved && typeof saved.token === 'string' && saved.expiresAt > Date.now()) return saved;
  } catch {
    // A damaged entry is the same as none.
  }
  localStorage.removeItem(SESSION_KEY);
  return null;
}

export function currentUser() {
  const saved = session();
  return saved ? saved.user : null;
}

export function saveSession(loginResult) {
  localStorage.setItem(SESSION_KEY, JSON.stringify({
    token: loginResult.token,
    expiresAt: Date.now() + loginResult.expires_in * 1000,
    user: loginResult.user,
  }));
}

export function updateSessionUser(user) {
  const saved = session();
  if (!saved) return;
  saved.user = user;
  localStorage.setItem(SESSION_KEY, JSON.stringify(saved));
}

export function clearSession() {
  localStorage.removeItem(SESSION_KEY);
}

async function problemFrom(response) {
  const type = response.headers.get('Content-Type') || '';
  let problem = {};
  if (type.includes('json')) {
    try {
      problem = await response.json();
    } catch {
      problem = {};
    }
  }
  if (!problem.title) problem.title = response.statusText || `HTTP ${response.status}`;
  const retryAfter = response.headers.get('Retry-After');
  if (retryAfter) problem.retryAfter = Number(retryAfter);
  return new ApiProblem(response.status, problem);
}

// Sends a request; resolves to the parsed JSON body (null for 204) or rejects with ApiProblem.
// options: { body (JSON-encoded unless it is a Blob/File), headers, auth (default true) }.
export async function request(method, path, options = {}) {
  const headers = { Accept: 'application/json', ...(options.headers || {}) };
  let body;
  if (options.body instanceof Blob) {
    body = options.body;
    headers['Content-Type'] = options.body.type || 'application/octet-stream';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  const saved = options.auth === false ? null : session();
  if (saved) headers.Authorization = `Bearer ${saved.token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body, cache: 'no-store' });
  } catch {
    throw new ApiProblem(0, {
      title: 'The shop could not be reached',
      detail: 'Check your connection and try again.',
    });
  }
  if (!response.ok) {
    const problem = await problemFrom(response);
    // An expired or revoked token: forget it, so the page offers to log in again.
    if (response.status === 401 && saved) clearSession();
    throw problem;
  }
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  return type.includes('json') ? response.json() : null;
}

export const get = (path, options) => request('GET', path, options);
export const post = (path, body, options = {}) => request('POST', path, { ...options, body });
export const put = (path, body, options = {}) => request('PUT', path, { ...options, body });
export const del = (path, body, options = {}) => request('DELETE', path, { ...options, body });

// Logs in and keeps the session; resolves to the user.
export async function logIn(email, password) {
  const result = await post('/login', { email, password }, { auth: false });
  saveSession(result);
  return result.user;
}

// Revokes the token on the server (best effort) and forgets it here.
export async function logOut() {
  try {
    if (session()) await post('/logout');
  } catch {
    // The token is forgotten either way.
  } finally {
    clearSession();
  }
}
