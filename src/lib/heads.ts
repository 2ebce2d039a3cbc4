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
