import { createHash, randomBytes } from 'node:crypto';
import type { Types } from 'mongoose';
import type { Deps } from '../deps';
import { securitySignal } from '../privacy/alerts';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './password';
import { admitLogin } from './loginGuard';
import { ROLES, type Role } from './roles';

export const SESSION_MS = 12 * 3600_000;
export const MIN_PASSWORD = 12;
/** After this many failures in a row an account is locked, for 15 minutes, doubling each time. */
export const LOCK_AFTER = 5;

export interface StaffView {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  lockedUntil: Date | null;
  lastLoginAt: Date | null;
}

type StaffDoc = {
  _id: Types.ObjectId;
  email: string;
  name: string;
  role: string;
  disabled?: boolean | null;
  lockedUntil?: Date | null;
  lastLoginAt?: Date | null;
};
export const view = (s: StaffDoc): StaffView => ({
  id: String(s._id),
  email: s.email,
  name: s.name,
  role: s.role as Role,
  disabled: Boolean(s.disabled),
  lockedUntil: s.lockedUntil ?? null,
  lastLoginAt: s.lastLoginAt ?? null,
});

export type CreateOutcome = { kind: 'created'; staff: StaffView } | { kind: 'exists' } | { kind: 'invalid'; problem: string };

export async function createStaff(deps: Deps, by: string | null, r: { email: string; name: string; role: string; password: string }): Promise<CreateOutcome> {
  const email = r.email.trim().toLowerCase();
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) return { kind: 'invalid', problem: 'email: an email address' };
  if (!ROLES.includes(r.role as Role)) return { kind: 'invalid', problem: `role: one of ${ROLES.join(', ')}` };
  if (r.password.length < MIN_PASSWORD) return { kind: 'invalid', problem: `password: at least ${MIN_PASSWORD} characters` };
  const doc = await deps.stores.staff.create({
    email,
    name: r.name.trim() || email,
    role: r.role,
    passwordHash: await hashPassword(r.password),
    now: deps.clock.now(),
  });
  if (!doc) return { kind: 'exists' };
  await deps.stores.audit.append({ staffId: by, action: 'staff_created', detail: `${String(doc._id)} as ${r.role}` });
  return { kind: 'created', staff: view(doc) };
}

export async function updateStaff(
  deps: Deps,
  by: string | null,
  email: string,
  change: { role?: string; disabled?: boolean; password?: string; unlock?: boolean },
): Promise<'updated' | 'unknown' | 'invalid'> {
  const set: Record<string, unknown> = {};
  // An admin lifts a lock (someone keeps locking a colleague out); a new password does too.
  if (change.unlock) Object.assign(set, { failedLogins: 0, lockedUntil: null, locks: 0 });
  if (change.role !== undefined) {
    if (!ROLES.includes(change.role as Role)) return 'invalid';
    set.role = change.role;
  }
  if (change.disabled !== undefined) set.disabled = change.disabled;
  if (change.password !== undefined) {
    if (change.password.length < MIN_PASSWORD) return 'invalid';
    set.passwordHash = await hashPassword(change.password);
    set.failedLogins = 0;
    set.lockedUntil = null;
    set.locks = 0;
  }
  const doc = await deps.stores.staff.update(email.trim().toLowerCase(), set);
  if (!doc) return 'unknown';
  // Sessions of a disabled account, or after a role or password change, end now.
  await deps.stores.staff.closeSessionsOf(doc._id);
  const what = change.unlock ? ['unlocked'] : Object.keys(set).filter((k) => !['passwordHash', 'failedLogins', 'lockedUntil', 'locks'].includes(k));
  await deps.stores.audit.append({
    staffId: by,
    action: 'staff_updated',
    detail: `${String(doc._id)}: ${[...what, ...(change.password ? ['password'] : [])].join(', ')}`,
  });
  return 'updated';
}

export type LoginOutcome =
  { kind: 'ok'; staff: StaffView; token: string; csrf: string } | { kind: 'invalid' } | { kind: 'throttled'; retryAfterSeconds: number };

/** Every failed login takes at least this long, so its timing says nothing the answer does not. */
export const FAILURE_FLOOR_MS = 400;

/**
 * Password login with lockout. The attempt is counted atomically before the password is checked
 * (a conditional `$inc` on an account that is not locked), so parallel guesses cannot all read the
 * same count: after LOCK_AFTER failures the account is locked for 15 minutes, doubling with each
 * lock (capped at a day), and an attempt counted past the limit fails even with the right
 * password. After a lock ends, one more try is allowed before the next lock.
 *
 * Unknown, disabled, locked and wrong all answer `invalid` after scrypt has run and no sooner than
 * FAILURE_FLOOR_MS, so neither the answer nor its timing tells which emails exist or are locked.
 * Failures on unknown accounts are counted as security events, not written one by one into the
 * chained audit log (a flood must not push real events out of it). Throttled attempts
 * (loginGuard.ts) never reach scrypt.
 */
export async function login(deps: Deps, emailIn: string, password: string, client = 'unknown'): Promise<LoginOutcome> {
  const email = emailIn.trim().toLowerCase();
  const admission = await admitLogin(deps, client, email);
  if (admission.kind === 'throttled') {
    securitySignal(deps, 'staff_login_throttled');
    return admission;
  }
  const started = Date.now();
  let outcome: LoginOutcome = { kind: 'invalid' };
  try {
    outcome = await attempt(deps, email, password);
  } finally {
    admission.release(outcome.kind === 'ok');
  }
  if (outcome.kind === 'invalid') await new Promise((r) => setTimeout(r, Math.max(0, started + FAILURE_FLOOR_MS - Date.now())));
  return outcome;
}

async function attempt(deps: Deps, email: string, password: string): Promise<LoginOutcome> {
  const staff = deps.stores.staff;
  {
    const now = deps.clock.now();
    // A lock that ended a day ago or more is forgotten (the doubling starts again); one that has just
    // run out gives one more try before the next one.
    const s = await staff.countAttempt(email, now, LOCK_AFTER - 1);
    const matches = await verifyPassword(password, s?.passwordHash ?? (await DUMMY_HASH_PROMISE));
    if (s && matches && (s.failedLogins ?? 0) <= LOCK_AFTER) {
      const token = randomBytes(32).toString('base64url');
      const csrf = randomBytes(24).toString('base64url');
      await staff.openSession({ id: sessionId(token), staffId: s._id, csrf, now, expiresAt: new Date(now.getTime() + SESSION_MS) });
      await staff.loggedIn(s._id, now);
      await deps.stores.audit.append({ staffId: String(s._id), action: 'login' });
      return { kind: 'ok', staff: view(s), token, csrf };
    }
    if (!s) {
      securitySignal(deps, 'staff_login_failed');
      return { kind: 'invalid' };
    }
    if ((s.failedLogins ?? 0) >= LOCK_AFTER) {
      const until = new Date(now.getTime() + Math.min(86_400_000, 15 * 60_000 * 2 ** (s.locks ?? 0)));
      if (await staff.lock(s._id, until)) {
        securitySignal(deps, 'staff_locked_out');
        await deps.stores.audit.append({ staffId: String(s._id), action: 'login_failed', detail: 'locked' });
        return { kind: 'invalid' };
      }
    }
    securitySignal(deps, 'staff_login_failed');
    await deps.stores.audit.append({ staffId: String(s._id), action: 'login_failed', detail: 'wrong password' });
    return { kind: 'invalid' };
  }
}

export const sessionId = (token: string) => createHash('sha256').update(token).digest('hex');

export async function sessionFor(deps: Deps, token: string | undefined): Promise<{ staff: StaffView; csrf: string; id: string } | null> {
  if (!token) return null;
  const sess = await deps.stores.staff.session(sessionId(token));
  if (!sess || sess.expiresAt < deps.clock.now()) return null;
  const s = await deps.stores.staff.byId(sess.staffId);
  if (!s || s.disabled) return null;
  return { staff: view(s), csrf: sess.csrf, id: sess._id };
}

export async function logout(deps: Deps, token: string, staffId: string): Promise<void> {
  await deps.stores.staff.closeSession(sessionId(token));
  await deps.stores.audit.append({ staffId, action: 'logout' });
}
