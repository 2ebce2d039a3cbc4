import { createHash } from 'node:crypto';
import type { Model } from 'mongoose';
import type { Deps } from '../deps';
import { isDuplicateKey } from '../db/models';
import { AppError } from '../lib/errors';

/**
 * A tamper-evident, append-only chain in a collection (the rights ledger, the staff audit log):
 * every entry carries the hash of the one before it. Appending is an insert at position last+1
 * under a unique index on `seq`, so concurrent writers (several replicas) never fork the chain;
 * an entry's `_id` is its idempotency key, so a replayed step appends nothing. Retention may cut the chain from
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

const tails = new WeakMap<object, Map<string, Promise<unknown>>>();

/** Appends of one chain run one at a time in this process (replicas still race, safely). */
function serialised<T>(deps: Deps, name: string, fn: () => Promise<T>): Promise<T> {
  const byName = tails.get(deps.models) ?? new Map<string, Promise<unknown>>();
  tails.set(deps.models, byName);
  const run = (byName.get(name) ?? Promise.resolve()).then(fn, fn);
  byName.set(name, run.catch(() => undefined));
  return run;
}

/**
 * Appends one entry. `id` is the entry's `_id`: a replayed step with the same id appends nothing.
 * The chain's head (last position and hash) is kept in `kv` so an append reads by `_id` only; if
 * the head is stale (another replica appended, or a crash came between the insert and the head
 * update), the insert collides on `seq` and the head is walked forward before trying again.
 */
export async function appendChained(deps: Deps, spec: ChainSpec, content: Record<string, unknown>, id: string): Promise<void> {
  return serialised(deps, spec.name, async () => {
    const { Kv } = deps.models;
    const headId = `${spec.name}.head`;
    for (let attempt = 0; attempt < 100; attempt++) {
      const head = ((await Kv.findById(headId).lean())?.value as { seq: number; hash: string } | undefined) ?? (await checkpoint(deps, spec));
      const entry = {
        seq: head.seq + 1,
        at: deps.clock.now(),
        ...Object.fromEntries(spec.fields.map((f) => [f, content[f] ?? null])),
        prevHash: head.hash,
      };
      const hash = chainHash(spec, entry);
      try {
        await spec.model.collection.insertOne({ _id: id as never, ...entry, hash });
        await Kv.updateOne({ _id: headId }, { $set: { value: { seq: entry.seq, hash }, at: entry.at } }, { upsert: true });
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        if (await spec.model.exists({ _id: id })) return; // this very event was appended before
        // The position is taken: move the head to the entry there, then try again.
        const taken = await spec.model.findOne({ seq: entry.seq }, { seq: 1, hash: 1 }).lean();
        if (taken) await Kv.updateOne({ _id: headId }, { $set: { value: { seq: taken.seq, hash: taken.hash } } }, { upsert: true });
      }
    }
    throw new AppError('LEDGER.APPEND_FAILED', `${spec.name}: append kept colliding`);
  });
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
  await deps.models.Kv.updateOne({ _id: `${spec.name}.checkpoint` }, { $set: { value: { seq: lastOld.seq as number, hash: lastOld.hash as string }, at: deps.clock.now() } }, { upsert: true });
  return (await spec.model.deleteMany({ seq: { $lte: lastOld.seq } })).deletedCount;
}
