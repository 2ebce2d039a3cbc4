import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Deps } from '../deps';

/**
 * Limits on login attempts, checked before any scrypt work (each scrypt costs 32 MiB and ~0.1 s
 * of the libuv pool, so a flood must be turned away before it): per client address, per account
 * name (whether or not the account exists, so the limit itself tells nothing), and scrypt runs in
 * flight across the process (more wait in a bounded queue; past it, they are turned away). Per
 * process: each replica protects its own CPU; the account lockout (accounts.ts) is in the database
 * and holds across replicas.
 */
export const PER_ADDRESS = { points: 10, duration: 60 };
export const PER_ACCOUNT = { points: 50, duration: 15 * 60 };
export const MAX_IN_FLIGHT = 4;
export const MAX_WAITING = 64;

interface Guard {
  address: RateLimiterMemory;
  account: RateLimiterMemory;
  inFlight: number;
  waiting: (() => void)[];
}
const guards = new WeakMap<Deps, Guard>();

function guardOf(deps: Deps): Guard {
  let g = guards.get(deps);
  if (!g) {
    g = {
      address: new RateLimiterMemory({ ...PER_ADDRESS, keyPrefix: 'login-ip' }),
      account: new RateLimiterMemory({ ...PER_ACCOUNT, keyPrefix: 'login-acct' }),
      inFlight: 0,
      waiting: [],
    };
    guards.set(deps, g);
  }
  return g;
}

/** `release(succeeded)`: a successful login gives its attempt back (an office behind one address is not locked out by its own logins). */
export type Admission = { kind: 'admitted'; release: (succeeded: boolean) => void } | { kind: 'throttled'; retryAfterSeconds: number };

/** The address a limit counts by: an IPv6 client is its /64 (one host holds a whole /64). */
export function clientKey(address: string): string {
  const v6 = address.replace(/^::ffff:(?=\d+\.)/, '');
  if (!v6.includes(':')) return v6;
  const full = v6.includes('::') ? expandV6(v6) : v6.split(':');
  return `${full.slice(0, 4).join(':')}::/64`;
}

function expandV6(a: string): string[] {
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  return [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
}

/** Takes one attempt from both budgets and a scrypt slot, or says how long to wait. */
export async function admitLogin(deps: Deps, addressIn: string, account: string): Promise<Admission> {
  const g = guardOf(deps);
  const address = clientKey(addressIn);
  try {
    await g.address.consume(address);
    await g.account.consume(account);
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    return { kind: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
  }
  if (g.inFlight >= MAX_IN_FLIGHT) {
    if (g.waiting.length >= MAX_WAITING) return { kind: 'throttled', retryAfterSeconds: 1 };
    await new Promise<void>((resolve) => g.waiting.push(resolve));
  } else g.inFlight += 1;
  let released = false;
  return {
    kind: 'admitted',
    release: (succeeded) => {
      if (released) return;
      released = true;
      if (succeeded) {
        void g.address.reward(address, 1).catch(() => undefined);
        void g.account.reward(account, 1).catch(() => undefined);
      }
      // Hand the slot to the next in line, or free it.
      const next = g.waiting.shift();
      if (next) next();
      else g.inFlight -= 1;
    },
  };
}
