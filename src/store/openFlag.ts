import type { Model } from 'mongoose';

/**
 * The `open` flag of queue items (inbox, outbox): true exactly while the state is one a worker may
 * still move on. It exists because an equality filter is what every engine serves from an index
 * (FerretDB v1 pushes down equality, never `$in`). A version of the app from before the flag, still
 * running beside this one during a rolling deploy, writes states without it; so the window trusts
 * the state over the flag, and the flag is repaired both ways (at start-up and by the retention sweep).
 */
export function openFlagRules(openStates: string[]) {
  return {
    /** The items of a window whose state is really open; the flag of the others is corrected in passing. */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async openOnly<T extends { _id: string; state?: string | null }>(model: Model<any>, items: T[]): Promise<T[]> {
      const stale = items.filter((i) => !openStates.includes(String(i.state)));
      if (!stale.length) return items;
      await Promise.all(stale.map((i) => model.updateOne({ _id: i._id, state: i.state }, { $set: { open: false } })));
      return items.filter((i) => openStates.includes(String(i.state)));
    },
    /** Sets the flag where an older version left it out or stale (an unindexed scan: start-up and the hourly sweep only). */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async repairOpenFlags(model: Model<any>): Promise<void> {
      await model.updateMany({ open: { $ne: true }, state: { $in: openStates } }, { $set: { open: true } });
      await model.updateMany({ open: true, state: { $nin: openStates } }, { $set: { open: false } });
    },
  };
}
