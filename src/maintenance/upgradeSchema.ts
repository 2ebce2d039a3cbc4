import type { Stores } from '../store/stores';

const OPEN_FLAGS = 'schema.openFlags';

/**
 * Brings documents written by an older version up to what the code reads, once per database (a
 * `kv` marker, read by `_id`, makes later starts cheap). Today: the inbox's and outbox's `open` flag,
 * which the workers' window filters on (store/inboxStore.ts).
 */
export async function upgradeSchema(stores: Pick<Stores, 'inbox' | 'outbox' | 'kv'>): Promise<void> {
  // A new database has nothing to bring up (and is left untouched: no marker either).
  if ((await stores.inbox.isEmpty()) && (await stores.outbox.isEmpty())) return;
  if (await stores.kv.get(OPEN_FLAGS)) return;
  await stores.inbox.markOpen();
  await stores.outbox.markOpen();
  await stores.kv.set(OPEN_FLAGS, true);
}
