import type { Deps } from '../deps';
import { isDuplicateKey } from '../db/models';
import { appendChained, chainHash, verifyChain, type ChainSpec, type VerifyResult } from '../privacy/chain';

export { GENESIS } from '../privacy/chain';
import { dueDate, type RequestType } from './regimes';

/**
 * The rights ledger: pseudonymous (a keyed token, never a number, name or text) and
 * tamper-evident (privacy/chain.ts). A replayed step collides on (requestId, event) and appends
 * nothing.
 */
export interface LedgerEvent {
  requestId: string;
  subscriberToken: string;
  event: string;
  detail?: string | null;
}

export const ledgerChain = (deps: Deps): ChainSpec => ({
  name: 'ledger',
  model: deps.models.Ledger as unknown as ChainSpec['model'],
  fields: ['requestId', 'subscriberToken', 'event', 'detail'],
});

/** The hash of a ledger entry (for independent checks, e.g. the fault suite). */
export function entryHash(e: { seq: number; at: Date; requestId: string; subscriberToken: string; event: string; detail?: string | null; prevHash: string }): string {
  return chainHash({ name: 'ledger', model: null as never, fields: ['requestId', 'subscriberToken', 'event', 'detail'] }, e);
}

export async function appendLedger(deps: Deps, ev: LedgerEvent): Promise<void> {
  await appendChained(deps, ledgerChain(deps), { ...ev }, `${ev.requestId}:${ev.event}`);
}

export async function verifyLedger(deps: Deps): Promise<VerifyResult> {
  return verifyChain(deps, ledgerChain(deps), (e) => ({ requestId: e.requestId, event: e.event }));
}

/** Opens (idempotently) the request record that STATUS, the console and audits read. */
export async function openRequest(
  deps: Deps,
  r: { id: string; subscriberToken: string; type: RequestType; channel: string; receivedAt?: Date },
): Promise<void> {
  const receivedAt = r.receivedAt ?? deps.clock.now();
  const { dueAt, regime } = dueDate(r.type, receivedAt);
  try {
    await deps.models.Request.collection.insertOne({
      _id: r.id as never,
      subscriberToken: r.subscriberToken,
      type: r.type,
      channel: r.channel,
      receivedAt,
      dueAt,
      regime,
      state: 'open',
      doneAt: null,
      outcome: null,
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  await appendLedger(deps, { requestId: r.id, subscriberToken: r.subscriberToken, event: `${r.type}.received`, detail: r.channel });
}

export async function closeRequest(deps: Deps, id: string, subscriberToken: string, state: 'done' | 'cancelled' | 'expired', outcome: string): Promise<void> {
  // Read, then write by _id alone: a request is handled by one worker at a time (per-subscriber
  // order), and FerretDB pushes down only _id filters.
  const current = await deps.models.Request.findById(id, { type: 1, state: 1 }).lean();
  if (current?.state === 'open') await deps.models.Request.updateOne({ _id: id }, { $set: { state, outcome, doneAt: deps.clock.now() } });
  const type = current?.type ?? 'request';
  await appendLedger(deps, { requestId: id, subscriberToken, event: `${type}.${state}`, detail: outcome });
}
