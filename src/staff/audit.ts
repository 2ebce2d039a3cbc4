import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps';
import { at } from '../privacy/pii';
import { appendChained, verifyChain, lastVerification, type ChainSpec, type VerifyResult } from '../privacy/chain';

/** The staff audit log: who did what, when, to which subscriber token (never the number); chained. */
export const auditChain = (deps: Deps): ChainSpec => ({
  name: 'staffAudit',
  model: deps.models.StaffAudit as unknown as ChainSpec['model'],
  fields: ['staffId', 'action', 'subscriberToken', 'detail'],
});

/**
 * `detail` is hashed into the chain, so it holds a fixed vocabulary only (a reason code, a role,
 * an outcome). Free text (a reveal's note, which may name the person) is sealed in `noteEnc`,
 * outside the hash, so an erasure can remove it without breaking the chain.
 */
export async function audit(
  deps: Deps,
  e: { staffId: string | null; action: string; subscriberToken?: string | null; detail?: string | null; note?: string | null },
): Promise<void> {
  const id = randomUUID();
  await appendChained(deps, auditChain(deps), { staffId: e.staffId, action: e.action, subscriberToken: e.subscriberToken ?? null, detail: e.detail ?? null }, id);
  if (e.note) await deps.models.StaffAudit.updateOne({ _id: id }, { $set: { noteEnc: deps.pii.encrypt(e.note, at('staffAudit', 'noteEnc', id)) } });
}

export function auditNote(deps: Deps, e: { _id: string; noteEnc?: string | null }): string | null {
  return e.noteEnc ? deps.pii.decrypt(e.noteEnc, at('staffAudit', 'noteEnc', e._id)) : null;
}

export async function verifyAudit(deps: Deps): Promise<VerifyResult> {
  return verifyChain(deps, auditChain(deps), (e) => ({ action: e.action, staffId: e.staffId }));
}

export const lastAuditVerification = (deps: Deps) => lastVerification(deps, auditChain(deps));
