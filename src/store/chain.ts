import { createHash } from 'node:crypto';
import type { Model } from 'mongoose';
import type { Clock } from '../lib/clock';
import { AppError } from '../lib/errors';
import { isDuplicateKey } from './insertOnce';
import type { KvStore } from './kvStore';

/**
 * A tamper-evident, append-only chain in a collection (the rights ledger, the staff audit log):
 * every entry carries the hash of the one before it. Appending is an insert at position last+1
 * under a unique index on `seq`, so concurrent writers (several replicas) never fork the chain
 * (docs/scaling.md: one chain per partition past one database);
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

/** How often the head is written to `kv` (at most): on start, the chain is walked from there. */
const PERSIST_EVERY_MS = 1000;

export function createChain(spec: ChainSpec, model: ChainModel, kv: KvStore, clock: Clock) {
  const headId = `${spec.name}.head`;
  // The head as this process last wrote or saw it (null: read it from `kv`).
  let known: { seq: number; hash: string } | null = null;
  let persistedAt = 0;
  // Appends waiting for the batch in flight; one batch at a time per process (replicas still race, safely).
  let queue: { items: Item[]; done: (err?: unknown) => void }[] = [];
  let flushing = false;

  type Item = { content: Record<string, unknown>; id: string; extra: Record<string, unknown> };
  const entryOf = (item: Item, head: { seq: number; hash: string }, at: Date) => {
    const entry = { seq: head.seq + 1, at, ...Object.fromEntries(spec.fields.map((f) => [f, item.content[f] ?? null])), prevHash: head.hash };
    return { _id: item.id, ...entry, ...item.extra, hash: chainHash(spec, entry) };
  };
  // Never behind the retention checkpoint: a head persisted before a cut would reuse freed positions.
  const headNow = async () => {
    if (known) return known;
    const [persisted, checkpoint] = [await kv.get<{ seq: number; hash: string }>(headId), await chain.checkpoint()];
    return persisted && persisted.seq >= checkpoint.seq ? persisted : checkpoint;
  };

  /**
   * One entry, the careful way: if the head is stale (another replica appended, or this process
   * restarted from a head persisted a moment earlier), the insert collides on `seq`, and the head
   * is walked forward to the entry there before trying again.
   */
  async function appendOne(item: Item): Promise<void> {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const doc = entryOf(item, await headNow(), clock.now());
      try {
        await model.collection.insertOne(doc as never);
        known = { seq: doc.seq, hash: doc.hash };
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // This very event was appended before: the insert wrote nothing, and the head is still right.
        if (await model.exists({ _id: item.id })) return;
        known = null;
        const taken = await model.findOne({ seq: doc.seq }, { seq: 1, hash: 1 }).lean<{ seq: number; hash: string }>();
        if (taken) known = { seq: taken.seq, hash: taken.hash };
      }
    }
    throw new AppError('LEDGER.APPEND_FAILED', `${spec.name}: append kept colliding`);
  }

  /**
   * Everything queued while the previous batch was in flight goes as one ordered insert of
   * consecutive entries (group commit: the chain costs one round trip per batch, not per entry).
   * On a collision the inserted prefix stands and the rest goes one by one (appendOne).
   */
  async function flush(): Promise<void> {
    flushing = true;
    try {
      while (queue.length) {
        const batch = queue;
        queue = [];
        const items = batch.flatMap((b) => b.items);
        let failure: unknown;
        try {
          let head = await headNow();
          const at = clock.now();
          const docs = items.map((item) => {
            const doc = entryOf(item, head, at);
            head = { seq: doc.seq, hash: doc.hash };
            return doc;
          });
          try {
            await model.collection.insertMany(docs as never[], { ordered: true });
            known = head;
          } catch (err) {
            if (!isDuplicateKey(err)) throw err;
            // Ordered: everything before the first failed entry is in (MongoBulkWriteError.writeErrors).
            const written = (err as { writeErrors?: { index: number } | { index: number }[] }).writeErrors;
            const inserted = (Array.isArray(written) ? written[0] : written)?.index ?? 0;
            known = inserted > 0 ? { seq: docs[inserted - 1].seq, hash: docs[inserted - 1].hash } : null;
            for (const item of items.slice(inserted)) await appendOne(item);
          }
          if (known && clock.now().getTime() - persistedAt >= PERSIST_EVERY_MS) {
            // The persisted head is a hint for the next start: a stale one costs a short walk, not a fork.
            await kv.set(headId, known);
            persistedAt = clock.now().getTime();
          }
        } catch (err) {
          known = null;
          failure = err;
        }
        for (const b of batch) b.done(failure);
      }
    } finally {
      flushing = false;
    }
  }

  const chain = {
    spec,
    model,
    hash: (e: Entry) => chainHash(spec, e),
    /** Forgets the head this process knows (after the chain was rewritten under it: maintenance/migrateIds.ts). */
    forgetHead: () => {
      known = null;
      persistedAt = 0;
    },
    /** Where verification starts: the genesis, or the checkpoint the retention sweep left. */
    checkpoint: async () => (await kv.get<{ seq: number; hash: string }>(`${spec.name}.checkpoint`)) ?? { seq: 0, hash: GENESIS },

    /**
     * Appends entries in the order given, each under its `id` (a replayed step with the same id
     * appends nothing). Concurrent callers share one insert; unrelated people's requests wait for
     * no more than the batch in flight.
     */
    appendAll: (items: { content: Record<string, unknown>; id: string; extra?: Record<string, unknown> }[]): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        if (!items.length) return resolve();
        queue.push({ items: items.map((i) => ({ extra: {}, ...i })), done: (err) => (err ? reject(err) : resolve()) });
        if (!flushing) void flush();
      }),

    /** Appends one entry under `id` (chain.appendAll). */
    append: (content: Record<string, unknown>, id: string, extra: Record<string, unknown> = {}): Promise<void> => chain.appendAll([{ content, id, extra }]),

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
