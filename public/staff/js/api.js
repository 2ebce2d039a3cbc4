// Calls to /staff/api. The session is an httpOnly cookie the browser sends; state-changing calls also
// carry the session's CSRF token (src/staff/router.ts).
import { toast } from './dom.js';
import { signedOut } from './session.js';
import { state } from './state.js';

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `request failed (${status})`);
    this.status = status;
    this.body = body;
  }
}

/** A 401 anywhere but sign-in and /me means the session ended (logout elsewhere, disabled, expired). */
export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && state.csrf) headers['x-csrf-token'] = state.csrf;
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const data = r.headers.get('content-type')?.includes('json') ? await r.json().catch(() => null) : null;
  if (r.status === 401 && path !== '/staff/api/login' && path !== '/staff/api/me') {
    signedOut('Your session has ended. Sign in again to continue.');
    throw new ApiError(401, data);
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return { data, response: r };
}

/** Shows a failed action as a toast; a 401 has already shown the sign-in form. */
export async function act(label, fn) {
  try {
    await fn();
  } catch (x) {
    if (x.status !== 401) toast(`${label} failed: ${x.message}`, 'error');
  }
}
