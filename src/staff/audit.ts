import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps';
import { appendChained, verifyChain, lastVerification, type ChainSpec, type VerifyResult } from '../privacy/chain';

/** The staff audit log: who did what, when, to which subscriber token (never the number); chained. */
export const auditChain = (deps: Deps): ChainSpec => ({
  name: 'staffAudit',
  model: deps.models.StaffAudit as unknown as ChainSpec['model'],
  fields: ['staffId', 'action', 'subscriberToken', 'detail'],
});

export async function audit(deps: Deps, e: { staffId: string | null; action: string; subscriberToken?: string | null; detail?: string | null }): Promise<void> {
  await appendChained(deps, auditChain(deps), { ...e, subscriberToken: e.subscriberToken ?? null, detail: e.detail ?? null }, randomUUID());
}

export async function verifyAudit(deps: Deps): Promise<VerifyResult> {
  return verifyChain(deps, auditChain(deps), (e) => ({ action: e.action, staffId: e.staffId }));
}

export const lastAuditVerification = (deps: Deps) => lastVerification(deps, auditChain(deps));
