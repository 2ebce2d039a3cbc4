import type { Deps } from '../deps';

export interface WriteResult {
  duplicates: number;
  /** The documents stored by this write (not the duplicates), as stored. */
  stored: Doc[];
}

type Doc = Record<string, unknown> & { _id: string };
interface Pending {
  docs: Doc[];
  resolve: (r: WriteResult) => void;
  reject: (err: unknown) => void;
}

const writers = new WeakMap<object, (docs: Doc[]) => Promise<WriteResult>>();

/**
 * Group commit for the inbox: deliveries that arrive while an insert is in flight are written
 * together in the next insertMany, and each request is answered only once its own documents are
 * stored (durability is unchanged: no 200 before the write). One insert per delivery is what
 * limits ingest on a database that commits each insert on its own (FerretDB/SQLite: ~1k inserts/s
 * one by one, ~9k documents/s in batches of 50).
 */
export function inboxWriter(deps: Deps): (docs: Doc[]) => Promise<WriteResult> {
  const existing = writers.get(deps.stores.inbox);
  if (existing) return existing;
  const queue: Pending[] = [];
  let flushing = false;

  async function flush(): Promise<void> {
    flushing = true;
    while (queue.length > 0) {
      const batch = queue.splice(0, 200);
      const docs = batch.flatMap((p) => p.docs);
      const dupIndexes = new Set<number>();
      let failure: unknown;
      try {
        await deps.stores.inbox.insertMany(docs);
      } catch (err) {
        const raw = (err as { writeErrors?: { code?: number; index?: number }[] | { code?: number; index?: number } }).writeErrors;
        const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
        if (list.length > 0 && list.every((e) => e.code === 11000)) for (const e of list) dupIndexes.add(e.index ?? -1);
        else failure = err;
      }
      let offset = 0;
      for (const p of batch) {
        const mine = p.docs.length;
        if (failure) p.reject(failure);
        else {
          const stored = p.docs.filter((_, i) => !dupIndexes.has(offset + i));
          p.resolve({ duplicates: mine - stored.length, stored });
        }
        offset += mine;
      }
    }
    flushing = false;
  }

  const write = (docs: Doc[]) =>
    new Promise<WriteResult>((resolve, reject) => {
      queue.push({ docs, resolve, reject });
      // Deliveries that arrive in the same tick, or while a write is in flight, join one batch.
      if (!flushing) {
        flushing = true;
        setImmediate(() => void flush());
      }
    });
  writers.set(deps.stores.inbox, write);
  return write;
}
