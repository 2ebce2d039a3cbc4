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
 * Claims candidates and hands what it won to `work`, keeping at most `concurrency` in hand. The
 * claims for the free places go out together (concurrent inserts share one write:
 * store/insertOnce.ts), so claiming never becomes the worker's bottleneck. Resolves with the number
 * claimed; with `wait`, only once their work has finished.
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
  let next = 0;
  while (next < o.candidates.length && !o.stopping()) {
    const free = o.concurrency - o.inHand.size;
    if (free <= 0) {
      await Promise.race([...o.inHand]);
      continue;
    }
    const slice = o.candidates.slice(next, next + free);
    next += slice.length;
    const claimed = await Promise.allSettled(slice.map((c) => o.claim(c)));
    for (const r of claimed) {
      const d = r.status === 'fulfilled' ? r.value : null;
      if (!d) continue; // another replica was faster (or the claim failed: reported below)
      const p: Promise<void> = o.work(d).finally(() => {
        o.inHand.delete(p);
        o.onSettled();
      });
      o.inHand.add(p);
      batch.push(p);
    }
    const failed = claimed.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason; // what was won is in hand; the loop reports this and retries
  }
  if (o.wait) await Promise.all(batch);
  return batch.length;
}
