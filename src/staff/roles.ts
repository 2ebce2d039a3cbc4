/**
 * Need-to-know access (the data-protection checklist asks for role-based least privilege):
 * - viewer: reads conversations and requests, numbers masked;
 * - agent: also replies, reveals a number with a stated reason, pauses/resumes the bot for one
 *   conversation, records an opt-out on the person's behalf, exports a person's data;
 * - admin: also manages staff and reads the audit log.
 */
export type Role = 'viewer' | 'agent' | 'admin';
export const ROLES: Role[] = ['viewer', 'agent', 'admin'];

export type Action = 'read' | 'reply' | 'reveal' | 'pause' | 'opt_out' | 'export' | 'audit' | 'manage_staff';

const GRANTS: Record<Role, Action[]> = {
  viewer: ['read'],
  agent: ['read', 'reply', 'reveal', 'pause', 'opt_out', 'export'],
  admin: ['read', 'reply', 'reveal', 'pause', 'opt_out', 'export', 'audit', 'manage_staff'],
};

/** What a role may do (the console shows only those actions). */
export function grants(role: string): Action[] {
  return [...(GRANTS[role as Role] ?? [])];
}

export function can(role: string, action: Action): boolean {
  return (GRANTS[role as Role] ?? []).includes(action);
}

/**
 * "+15550002222" → "+1•••••2222": enough to tell conversations apart, not enough to call. The
 * number of dots is fixed, so the mask does not even reveal the number's length.
 */
export function maskNumber(e164: string | null): string {
  if (!e164) return 'username user';
  const digits = e164.replace(/\D/g, '');
  return `+${digits.slice(0, 1)}•••••${digits.slice(-4)}`;
}
