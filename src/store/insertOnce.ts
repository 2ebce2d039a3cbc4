import type { Collection, Model } from 'mongoose';

/**
 * Idempotency without transactions: a step writes a document under an id derived from what caused
 * it, and a replay collides on `_id` (or a unique index) and writes nothing. This is the one place
 * that tells a duplicate from a real failure, on both engines.
 */

/**
 * Duplicate key: 11000 on MongoDB and on FerretDB inserts; FerretDB v1 answers upsert conflicts
 * with code 1 and a "duplicate"/"UNIQUE" message (https://docs.ferretdb.io/diff/).
 */
export function isDuplicateKey(err: unknown): boolean {
  const code = (err as { code?: number })?.code;
  return code === 11000 || (code === 1 && /duplicate|UNIQUE/i.test(String((err as Error).message)));
}

/**
 * Inserts a document with a string `_id` through the driver (mongoose would cast the id and apply
 * defaults we do not want on replays). Returns false when it was already there.
 *
 * Group commit per collection: while one insert is in flight, the inserts that arrive meanwhile
 * wait and then go together as one unordered `insertMany`, each caller told about its own document
 * (a duplicate is its `false`, any other failure its error). Alone, an insert goes at once; under
 * load, concurrent conversations share round trips (one command for many documents costs the
 * database far less than one each: docs/benchmarks.md, ingest).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function insertOnce(model: Model<any>, doc: { _id: string } & Record<string, unknown>): Promise<boolean> {
  let batcher = batchers.get(model.collection);
  if (!batcher) batchers.set(model.collection, (batcher = createBatcher(model.collection)));
  return batcher(doc);
}

const MAX_BATCH = 500;
const batchers = new WeakMap<Collection, (doc: Record<string, unknown>) => Promise<boolean>>();

type Waiting = { doc: Record<string, unknown>; resolve: (inserted: boolean) => void; reject: (err: unknown) => void };
type WriteError = { index: number; code?: number; errmsg?: string };

function createBatcher(collection: Collection) {
  let queue: Waiting[] = [];
  let inFlight = false;
  // One function, so that the flag drops in the same step the queue is found empty: an insert
  // queued in between would otherwise wait for a drain that never comes.
  async function drain(): Promise<void> {
    inFlight = true;
    try {
      while (queue.length) {
        const batch = queue.slice(0, MAX_BATCH);
        queue = queue.slice(batch.length);
        // Even a synchronous throw (a closed connection) settles this batch and lets the queue go on.
        await writeBatch(batch).catch((err) => batch.forEach((w) => w.reject(err)));
      }
    } finally {
      inFlight = false;
    }
  }
  async function writeBatch(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) {
      const [w] = batch;
      await collection.insertOne(w.doc as never).then(
        () => w.resolve(true),
        (err) => (isDuplicateKey(err) ? w.resolve(false) : w.reject(err)),
      );
      return;
    }
    try {
      await collection.insertMany(
        batch.map((w) => w.doc as never),
        { ordered: false },
      );
      for (const w of batch) w.resolve(true);
    } catch (err) {
      const written = (err as { writeErrors?: WriteError | WriteError[] }).writeErrors;
      const errors = written === undefined ? null : Array.isArray(written) ? written : [written];
      if (!errors?.length) {
        for (const w of batch) w.reject(err); // the command as a whole failed
        return;
      }
      const byIndex = new Map(errors.map((e) => [e.index, e]));
      batch.forEach((w, i) => {
        const e = byIndex.get(i);
        if (!e) w.resolve(true);
        else if (isDuplicateKey({ code: e.code, message: e.errmsg })) w.resolve(false);
        else w.reject(Object.assign(new Error(e.errmsg ?? 'insert failed'), { code: e.code }));
      });
    }
  }
  return (doc: Record<string, unknown>) =>
    new Promise<boolean>((resolve, reject) => {
      queue.push({ doc, resolve, reject });
      if (!inFlight) void drain();
    });
}

/** An upsert two replicas may race on: the loser's duplicate-key error means the winner wrote it. */
export async function upsertTolerant(write: Promise<unknown>): Promise<void> {
  await write.catch((err) => {
    if (!isDuplicateKey(err)) throw err;
  });
}
