import type { Model } from 'mongoose';

/**
 * The `open` flag of queue items (inbox, outbox): true exactly while the state is one a worker may
 * still move on. It exists because an equality filter is what every engine serves from an index
 * (FerretDB v1 pushes down equality, never `$in`). A version of the app from before the flag, still
 * running beside this one during a rolling deploy, writes states without it; so the window trusts
 * the state over the flag, and the flag is repaired both ways (at start-up and by the retention sweep).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function openFlagRules(model: Model<any>, openStates: string[]) {
  return {
    isEmpty: async () => (await model.estimatedDocumentCount()) === 0,
    /** Sets the flag where an older version left it out or stale (an unindexed scan: start-up and the hourly sweep only). */
    async markOpen(): Promise<void> {
      await model.updateMany({ open: { $ne: true }, state: { $in: openStates } }, { $set: { open: true } });
      await model.updateMany({ open: true, state: { $nin: openStates } }, { $set: { open: false } });
    },
    /** The items of a window whose state is really open; the flag of the others is corrected in passing. */
    async openOnly<T extends { _id: string; state?: string | null }>(items: T[]): Promise<T[]> {
      const stale = items.filter((i) => !openStates.includes(String(i.state)));
      if (!stale.length) return items;
      await Promise.all(stale.map((i) => model.updateOne({ _id: i._id, state: i.state }, { $set: { open: false } })));
      return items.filter((i) => openStates.includes(String(i.state)));
    },
  };
}
