import { createHash } from 'node:crypto';
import type { Model } from 'mongoose';
import type { Deps } from '../deps';
import { isDuplicateKey } from '../db/models';
import { AppError } from '../lib/errors';

/**
 * A tamper-evident, append-only chain in a collection (the rights ledger, the staff audit log):
 * every entry carries the hash of the one before it. Appending is an insert at position last+1
 * under a unique index on `seq`, so concurrent writers (several replicas) never fork the chain;
 * an optional dedupe filter makes a replayed step append nothing. Retention may cut the chain from
 * its start; the cut is remembered as a checkpoint (`<name>.checkpoint`), so it still verifies.
 */
export const GENESIS = '0'.repeat(64);

type ChainModel = Model<Record<string, unknown>>;

export interface ChainSpec {
  name: string;
  model: ChainModel;
  /** Content fields, in hash order. */
  fields: string[];
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  firstBroken?: { seq: number; reason: string } & Record<string, unknown>;
  at: Date;
}

export function chainHash(spec: ChainSpec, e: Record<string, unknown> & { seq: number; at: Date; prevHash: string }): string {
  const content = spec.fields.map((f) => e[f] ?? null);
  return createHash('sha256').update(JSON.stringify([e.seq, e.at.toISOString(), ...content, e.prevHash])).digest('hex');
}

export async function appendChained(deps: Deps, spec: ChainSpec, content: Record<string, unknown>, dedupe?: Record<string, unknown>): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (dedupe && (await spec.model.exists(dedupe))) return;
    const last = await spec.model.findOne({}, { seq: 1, hash: 1 }).sort({ seq: -1 }).lean();
    const start = last ? null : await checkpoint(deps, spec);
    const entry = {
      seq: ((last?.seq as number | undefined) ?? start?.seq ?? 0) + 1,
      at: deps.clock.now(),
      ...Object.fromEntries(spec.fields.map((f) => [f, content[f] ?? null])),
      prevHash: (last?.hash as string | undefined) ?? start?.hash ?? GENESIS,
    };
    try {
      await spec.model.collection.insertOne({ ...entry, hash: chainHash(spec, entry) });
      return;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Another writer took this position (or this very event was just written): look again.
    }
  }
  throw new AppError('LEDGER.APPEND_FAILED', `${spec.name}: append kept colliding`);
}

/** Walks the chain in order; names the first entry whose position, link or content does not hold. */
export async function verifyChain(deps: Deps, spec: ChainSpec, describe: (e: Record<string, unknown>) => Record<string, unknown>): Promise<VerifyResult> {
  const start = await checkpoint(deps, spec);
  let prev = start.hash;
  let expectedSeq = start.seq + 1;
  let n = 0;
  let result: VerifyResult | undefined;
  const cursor = spec.model.find({ seq: { $gt: start.seq } }).sort({ seq: 1 }).lean().cursor();
  for await (const raw of cursor) {
    const e = raw as unknown as Record<string, unknown> & { seq: number; at: Date; prevHash: string; hash: string };
    n += 1;
    const reason =
      e.seq !== expectedSeq ? `missing entry before position ${e.seq}` : e.prevHash !== prev ? 'link to the previous entry broken' : chainHash(spec, e) !== e.hash ? 'content changed' : null;
    if (reason) {
      result = { ok: false, entries: n, firstBroken: { seq: e.seq, ...describe(e), reason }, at: deps.clock.now() };
      break;
    }
    prev = e.hash;
    expectedSeq += 1;
  }
  result ??= { ok: true, entries: n, at: deps.clock.now() };
  await deps.models.Kv.updateOne({ _id: `${spec.name}.lastVerification` }, { $set: { value: result, at: result.at } }, { upsert: true });
  return result;
}

export async function lastVerification(deps: Deps, spec: ChainSpec): Promise<VerifyResult | null> {
  return ((await deps.models.Kv.findById(`${spec.name}.lastVerification`).lean())?.value as VerifyResult | undefined) ?? null;
}

/** Where verification starts: the genesis, or the checkpoint the retention sweep left. */
export async function checkpoint(deps: Deps, spec: ChainSpec): Promise<{ seq: number; hash: string }> {
  const cp = await deps.models.Kv.findById(`${spec.name}.checkpoint`).lean();
  return (cp?.value as { seq: number; hash: string } | undefined) ?? { seq: 0, hash: GENESIS };
}

/** Cuts entries older than `before` from the start of the chain, leaving a checkpoint. */
export async function cutChain(deps: Deps, spec: ChainSpec, before: Date): Promise<number> {
  const lastOld = await spec.model.findOne({ at: { $lt: before } }, { seq: 1, hash: 1 }).sort({ seq: -1 }).lean();
  if (!lastOld) return 0;
  await deps.models.Kv.updateOne({ _id: `${spec.name}.checkpoint` }, { $set: { value: { seq: lastOld.seq, hash: lastOld.hash }, at: deps.clock.now() } }, { upsert: true });
  return (await spec.model.deleteMany({ seq: { $lte: lastOld.seq } })).deletedCount;
}
