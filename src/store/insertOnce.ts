import type { Model } from 'mongoose';

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
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function insertOnce(model: Model<any>, doc: { _id: string } & Record<string, unknown>): Promise<boolean> {
  try {
    await model.collection.insertOne(doc as never);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/** An upsert two replicas may race on: the loser's duplicate-key error means the winner wrote it. */
export async function upsertTolerant(write: Promise<unknown>): Promise<void> {
  await write.catch((err) => {
    if (!isDuplicateKey(err)) throw err;
  });
}
