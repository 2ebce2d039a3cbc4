import { getCountries, getCountryCallingCode } from 'libphonenumber-js';
/**
 * Need-to-know access (the data-protection checklist asks for role-based least privilege):
 * - viewer: reads conversations and requests, numbers masked;
 * - agent: also replies, reveals a number with a stated reason, pauses/resumes the bot for one
 *   conversation, records an opt-out on the person's behalf, exports a person's data, dismisses a
 *   "needs a human" mark, and closes a request with a reason;
 * - admin: also erases a person's data on their documented request made elsewhere (irreversible,
 *   so not an agent's), manages staff and reads the audit log.
 */
export type Role = 'viewer' | 'agent' | 'admin';
export const ROLES: Role[] = ['viewer', 'agent', 'admin'];

export type Action = 'read' | 'reply' | 'reveal' | 'pause' | 'opt_out' | 'export' | 'triage' | 'close_request' | 'erase' | 'audit' | 'manage_staff';

const GRANTS: Record<Role, Action[]> = {
  viewer: ['read'],
  agent: ['read', 'reply', 'reveal', 'pause', 'opt_out', 'export', 'triage', 'close_request'],
  admin: ['read', 'reply', 'reveal', 'pause', 'opt_out', 'export', 'triage', 'close_request', 'erase', 'audit', 'manage_staff'],
};

/** What a role may do (the console shows only those actions). */
export function grants(role: string): Action[] {
  return [...(GRANTS[role as Role] ?? [])];
}

export function can(role: string, action: Action): boolean {
  return (GRANTS[role as Role] ?? []).includes(action);
}

/**
 * "+15550002222" → "+1•••••2222", "+34612345678" → "+34•••••5678": the whole country calling code
 * (Spain and France must not both read "+3…") and the last four digits, with at least five always
 * hidden (a short number shows fewer); enough to tell conversations and countries apart, not enough
 * to call. The number of dots is fixed, so the mask does not reveal the number's length. The calling code comes from libphonenumber-js; a number it
 * cannot place keeps one digit.
 */
export function maskNumber(e164: string | null): string {
  if (!e164) return 'username user';
  const digits = e164.replace(/\D/g, '');
  const code = callingCode(digits) ?? digits.slice(0, 1);
  // At least five digits stay hidden: a short number (Iceland's seven, a Falklands five) shows fewer at the end.
  const tail = Math.max(0, Math.min(4, digits.length - code.length - 5));
  return `+${code}•••••${tail ? digits.slice(-tail) : ''}`;
}

/** The ITU calling code a number starts with (1 to 3 digits), when it is a code in use. */
function callingCode(digits: string): string | null {
  for (const n of [1, 2, 3]) {
    const code = digits.slice(0, n);
    if (digits.length > n + 3 && CALLING_CODES.has(code)) return code;
  }
  return null;
}

// Codes in use that belong to no country (global services) are listed by libphonenumber-js under no country.
const NON_GEOGRAPHIC = ['800', '808', '870', '878', '881', '882', '883', '888', '979'];
const CALLING_CODES: ReadonlySet<string> = new Set([...getCountries().map((c) => String(getCountryCallingCode(c))), ...NON_GEOGRAPHIC]);
