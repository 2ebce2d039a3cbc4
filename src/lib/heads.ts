/**
 * Per-key order in one pass: given the open items of a queue sorted by position, the first item of
 * each key (subscriber) is its head; only heads may be worked on. One query per pass instead of
 * one per candidate (on FerretDB v1's SQLite handler every non-`_id` query scans the collection).
 */
export function headsOf<T>(sorted: T[], keyOf: (item: T) => string): T[] {
  const seen = new Set<string>();
  const heads: T[] = [];
  for (const item of sorted) {
    const key = keyOf(item);
    if (seen.has(key)) continue;
    seen.add(key);
    heads.push(item);
  }
  return heads;
}

/**
 * Claims each candidate in turn and hands what it won to `work`, keeping at most `concurrency`
 * in hand. Resolves with the number claimed; with `wait`, only once their work has finished.
 */
export async function claimAndWork<C, D>(o: {
  candidates: C[];
  claim: (c: C) => Promise<D | null>;
  work: (d: D) => Promise<void>;
  inHand: Set<Promise<void>>;
  concurrency: number;
  stopping: () => boolean;
  onSettled: () => void;
  wait: boolean;
}): Promise<number> {
  const batch: Promise<void>[] = [];
  for (const c of o.candidates) {
    if (o.stopping()) break;
    const d = await o.claim(c);
    if (!d) continue; // another replica was faster
    const p: Promise<void> = o.work(d).finally(() => {
      o.inHand.delete(p);
      o.onSettled();
    });
    o.inHand.add(p);
    batch.push(p);
    if (o.inHand.size >= o.concurrency) await Promise.race([...o.inHand]);
  }
  if (o.wait) await Promise.all(batch);
  return batch.length;
}
