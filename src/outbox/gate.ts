import type { Stores } from '../store/stores';
import type { Category } from '../store/outboxStore';

export type GateDecision = { allowed: true } | { allowed: false; reason: 'no_consent' | 'opted_out' | 'suppressed' };

/**
 * The consent gate: the one check every outbound path passes (chat replies, staff replies, the
 * integration API, and the outbox worker again right before sending, since a STOP may arrive while
 * a message waits). Marketing needs a recorded opt-in not withdrawn since, and never reaches a
 * suppressed (erased) number. Rights replies (the opt-out confirmation, MY DATA, erasure) and
 * service messages are not marketing and pass (FCC: one confirmation is allowed).
 */
export async function consentGate(stores: Pick<Stores, 'subscribers' | 'suppressions'>, r: { token: string; category: Category }): Promise<GateDecision> {
  if (r.category !== 'marketing') return { allowed: true };
  // Both reads, always: the time of an answer must not tell an erased number from an unknown one.
  const [suppressed, consent] = await Promise.all([stores.suppressions.isSuppressed(r.token), stores.subscribers.consentOf(r.token)]);
  if (suppressed) return { allowed: false, reason: 'suppressed' };
  if (!consent || consent === 'none') return { allowed: false, reason: 'no_consent' };
  if (consent !== 'opted_in') return { allowed: false, reason: 'opted_out' };
  return { allowed: true };
}
