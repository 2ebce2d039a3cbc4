import { createHash } from 'node:crypto';
import type { Deps } from '../deps';
import { isDuplicateKey } from '../db/models';
import { AppError } from '../lib/errors';
import { dueDate, type RequestType } from './regimes';

/**
 * The rights ledger: pseudonymous (a keyed token, never a number, name or text) and
 * tamper-evident: every entry carries the hash of the one before it. Appending is an insert at
 * position last+1 under a unique index, so concurrent writers never fork the chain; a replayed
 * step collides on (requestId, event) and appends nothing.
 */
export const GENESIS = '0'.repeat(64);

export interface LedgerEvent {
  requestId: string;
  subscriberToken: string;
  event: string;
  detail?: string | null;
}

export function entryHash(e: { seq: number; at: Date; requestId: string; subscriberToken: string; event: string; detail?: string | null; prevHash: string }): string {
  return createHash('sha256')
    .update(JSON.stringify([e.seq, e.at.toISOString(), e.requestId, e.subscriberToken, e.event, e.detail ?? null, e.prevHash]))
    .digest('hex');
}

export async function appendLedger(deps: Deps, ev: LedgerEvent): Promise<void> {
  const { Ledger } = deps.models;
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await Ledger.exists({ requestId: ev.requestId, event: ev.event })) return;
    const last = await Ledger.findOne({}, { seq: 1, hash: 1 }).sort({ seq: -1 }).lean();
    const entry = { seq: (last?.seq ?? 0) + 1, at: deps.clock.now(), requestId: ev.requestId, subscriberToken: ev.subscriberToken, event: ev.event, detail: ev.detail ?? null, prevHash: last?.hash ?? GENESIS };
    try {
      await Ledger.collection.insertOne({ ...entry, hash: entryHash(entry) });
      return;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Another writer took this position (or this event was just written): look again.
    }
  }
  throw new AppError('LEDGER.APPEND_FAILED', 'ledger append kept colliding');
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  firstBroken?: { seq: number; requestId: string; event: string; reason: string };
  at: Date;
}

/** Walks the chain in order; names the first entry whose hash or link does not hold. */
export async function verifyLedger(deps: Deps): Promise<VerifyResult> {
  const start = await ledgerCheckpoint(deps);
  let prev = start.hash;
  let expectedSeq = start.seq + 1;
  let n = 0;
  const cursor = deps.models.Ledger.find({ seq: { $gt: start.seq } }).sort({ seq: 1 }).lean().cursor();
  for await (const e of cursor) {
    n += 1;
    const reason =
      e.seq !== expectedSeq ? `missing entry before position ${e.seq}` : e.prevHash !== prev ? 'link to the previous entry broken' : entryHash(e) !== e.hash ? 'content changed' : null;
    if (reason) {
      const result = { ok: false, entries: n, firstBroken: { seq: e.seq, requestId: e.requestId, event: e.event, reason }, at: deps.clock.now() };
      await saveVerification(deps, result);
      return result;
    }
    prev = e.hash;
    expectedSeq += 1;
  }
  const result = { ok: true, entries: n, at: deps.clock.now() };
  await saveVerification(deps, result);
  return result;
}

async function saveVerification(deps: Deps, result: VerifyResult): Promise<void> {
  await deps.models.Kv.updateOne({ _id: 'ledger.lastVerification' }, { $set: { value: result, at: result.at } }, { upsert: true });
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
  await deps.models.Request.updateOne({ _id: id, state: 'open' }, { $set: { state, outcome, doneAt: deps.clock.now() } });
  const type = (await deps.models.Request.findById(id, { type: 1 }).lean())?.type ?? 'request';
  await appendLedger(deps, { requestId: id, subscriberToken, event: `${type}.${state}`, detail: outcome });
}

/** Where verification starts: the genesis, or the checkpoint left by the retention sweep's cut. */
export async function ledgerCheckpoint(deps: Deps): Promise<{ seq: number; hash: string }> {
  const cp = await deps.models.Kv.findById('ledger.checkpoint').lean();
  return (cp?.value as { seq: number; hash: string } | undefined) ?? { seq: 0, hash: GENESIS };
}
