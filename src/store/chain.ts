import { createHash } from 'node:crypto';
import type { Model } from 'mongoose';
import type { Clock } from '../lib/clock';
import { AppError } from '../lib/errors';
import { isDuplicateKey } from './insertOnce';
import type { KvStore } from './kvStore';

/**
 * A tamper-evident, append-only chain in a collection (the rights ledger, the staff audit log):
 * every entry carries the hash of the one before it. Appending is an insert at position last+1
 * under a unique index on `seq`, so concurrent writers (several replicas) never fork the chain;
 * an entry's `_id` is its idempotency key, so a replayed step appends nothing. Retention may cut
 * the chain from its start; the cut is remembered as a checkpoint (`<name>.checkpoint`), so it
 * still verifies.
 */
export const GENESIS = '0'.repeat(64);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ChainModel = Model<any>;

export interface ChainSpec {
  name: string;
  /** Content fields, in hash order. */
  fields: string[];
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  firstBroken?: { seq: number; reason: string } & Record<string, unknown>;
  at: Date;
}

type Entry = Record<string, unknown> & { seq: number; at: Date; prevHash: string };

export function chainHash(spec: ChainSpec, e: Entry): string {
  const content = spec.fields.map((f) => e[f] ?? null);
  return createHash('sha256')
    .update(JSON.stringify([e.seq, e.at.toISOString(), ...content, e.prevHash]))
    .digest('hex');
}

export type Chain = ReturnType<typeof createChain>;

export function createChain(spec: ChainSpec, model: ChainModel, kv: KvStore, clock: Clock) {
  const headId = `${spec.name}.head`;
  // The head as this process last wrote it (null: read it from `kv`).
  let known: { seq: number; hash: string } | null = null;
  // Appends of one chain run one at a time in this process (replicas still race, safely).
  let tail: Promise<unknown> = Promise.resolve();
  const serialised = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
  const chain = {
    spec,
    model,
    hash: (e: Entry) => chainHash(spec, e),
    /** Forgets the head this process knows (after the chain was rewritten under it: maintenance/migrateIds.ts). */
    forgetHead: () => {
      known = null;
    },
    /** Where verification starts: the genesis, or the checkpoint the retention sweep left. */
    checkpoint: async () => (await kv.get<{ seq: number; hash: string }>(`${spec.name}.checkpoint`)) ?? { seq: 0, hash: GENESIS },

    /**
     * Appends one entry under `id` (a replayed step with the same id appends nothing). The head
     * (last position and hash) is kept in `kv` so a start reads it by `_id` only, and in this
     * process after that: an append is one insert and one head write. If the head is stale
     * (another replica appended, or a crash came between the insert and the head update), the
     * insert collides on `seq` and the head is walked forward before trying again.
     */
    append: (content: Record<string, unknown>, id: string, extra: Record<string, unknown> = {}): Promise<void> =>
      serialised(async () => {
        for (let attempt = 0; attempt < 100; attempt++) {
          const head = known ?? (await kv.get<{ seq: number; hash: string }>(headId)) ?? (await chain.checkpoint());
          const entry = { seq: head.seq + 1, at: clock.now(), ...Object.fromEntries(spec.fields.map((f) => [f, content[f] ?? null])), prevHash: head.hash };
          const hash = chainHash(spec, entry);
          try {
            await model.collection.insertOne({ _id: id as never, ...entry, ...extra, hash });
            known = { seq: entry.seq, hash };
            await kv.set(headId, known, entry.at);
            return;
          } catch (err) {
            if (!isDuplicateKey(err)) throw err;
            known = null;
            if (await model.exists({ _id: id })) return; // this very event was appended before
            // The position is taken: move the head to the entry there, then try again.
            const taken = await model.findOne({ seq: entry.seq }, { seq: 1, hash: 1 }).lean<{ seq: number; hash: string }>();
            if (taken) await kv.set(headId, { seq: taken.seq, hash: taken.hash });
          }
        }
        throw new AppError('LEDGER.APPEND_FAILED', `${spec.name}: append kept colliding`);
      }),

    /** Walks the chain in order; names the first entry whose position, link or content does not hold. */
    async verify(describe: (e: Record<string, unknown>) => Record<string, unknown>): Promise<VerifyResult> {
      const start = await chain.checkpoint();
      let prev = start.hash;
      let expectedSeq = start.seq + 1;
      let n = 0;
      let result: VerifyResult | undefined;
      for await (const raw of model
        .find({ seq: { $gt: start.seq } })
        .sort({ seq: 1 })
        .lean()
        .cursor()) {
        const e = raw as unknown as Entry & { hash: string };
        n += 1;
        const reason =
          e.seq !== expectedSeq
            ? `missing entry before position ${e.seq}`
            : e.prevHash !== prev
              ? 'link to the previous entry broken'
              : chainHash(spec, e) !== e.hash
                ? 'content changed'
                : null;
        if (reason) {
          result = { ok: false, entries: n, firstBroken: { seq: e.seq, ...describe(e), reason }, at: clock.now() };
          break;
        }
        prev = e.hash;
        expectedSeq += 1;
      }
      result ??= { ok: true, entries: n, at: clock.now() };
      await kv.set(`${spec.name}.lastVerification`, result, result.at);
      return result;
    },

    lastVerification: () => kv.get<VerifyResult>(`${spec.name}.lastVerification`),

    /** Cuts entries older than `before` from the start of the chain, leaving a checkpoint. */
    async cut(before: Date): Promise<number> {
      const lastOld = await model
        .findOne({ at: { $lt: before } }, { seq: 1, hash: 1 })
        .sort({ seq: -1 })
        .lean<{ seq: number; hash: string }>();
      if (!lastOld) return 0;
      await kv.set(`${spec.name}.checkpoint`, { seq: lastOld.seq, hash: lastOld.hash });
      return (await model.deleteMany({ seq: { $lte: lastOld.seq } })).deletedCount;
    },
  };
  return chain;
}
