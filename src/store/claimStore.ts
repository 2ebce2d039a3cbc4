import { Schema, type Model } from 'mongoose';
import { insertOnce } from './insertOnce';

/**
 * Who may work on a queue item, decided by a unique insert. A conditional `findOneAndUpdate` is a
 * lease on MongoDB, but not on FerretDB v1, where it is a read followed by a write: several
 * replicas win the same item (https://github.com/FerretDB/FerretDB/issues/3040). An insert of a
 * unique `_id` is atomic on every engine, so each claim of an item is one document:
 * `<queue>:<item>:<generation>`, where the generation is the item's count of claims so far. Only
 * one replica can insert a given generation; the winner then moves the item on to the next.
 *
 * A winner that died between its claim and moving the item leaves that generation taken: once the
 * claim is older than the lease, the next claim is `<id>:<time of the stale claim>`, the same for
 * every replica that finds it stale, so again one of them wins.
 */
export const claimSchema = new Schema(
  { _id: { type: String, required: true }, at: { type: Date, required: true, index: true } },
  { versionKey: false, collection: 'claims' },
);

type ClaimDoc = { _id: string; at: Date };

export type ClaimStore = ReturnType<typeof createClaimStore>;

export function createClaimStore(model: Model<ClaimDoc>) {
  return {
    /** True when this caller won generation `generation` of the item. */
    async win(queue: string, itemId: string, generation: number, now: Date, leaseMs: number): Promise<boolean> {
      let id = `${queue}:${itemId}:${generation}`;
      for (let depth = 0; depth < 8; depth++) {
        if (await insertOnce(model, { _id: id, at: now })) return true;
        const held = await model.findById(id).lean<ClaimDoc>();
        if (held && held.at.getTime() > now.getTime() - leaseMs) return false;
        id = `${id}:${held ? held.at.getTime() : 'gone'}`;
      }
      return false;
    },
    /** Retention: claims are needed only while their item can still be claimed. */
    sweep: async (before: Date) => (await model.deleteMany({ at: { $lt: before } })).deletedCount,
  };
}

type Leased = { state?: string | null; attempts?: number | null; leaseUntil?: Date | null };

/**
 * Items written already leased to their writer's own worker (lib/handOver.ts), in a queue whose
 * leased state is `heldState`. That first lease is generation 0's claim: the item is born with one
 * claim (`attempts: 1`), and the next claim, by anyone, is generation 1.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function writtenInHand(model: Model<any>, heldState: string) {
  const asWritten = (seen: Leased, written: Leased) => {
    const until = written.leaseUntil?.getTime();
    return (
      written.state === heldState &&
      written.attempts === 1 &&
      until !== undefined &&
      seen.state === heldState &&
      seen.attempts === 1 &&
      seen.leaseUntil?.getTime() === until
    );
  };
  return {
    /**
     * What the writer's worker may do with it: 'take' it without a claim while it is still as written
     * (nobody's lease since) and nearly all of its lease is ahead, so the work ends well before
     * another replica could take it (a send may take an upload and a send, each up to the Graph
     * timeout); 'claim' it now, as the next generation with a fresh lease, when it is as written but
     * its lease has run down (it waited behind the person's earlier item); null when it moved on.
     */
    inHandAsWritten(seen: Leased, written: Leased, now: Date, leaseMs: number): 'take' | 'claim' | null {
      if (!asWritten(seen, written)) return null;
      return written.leaseUntil!.getTime() - now.getTime() > TAKE_WITH_LEASE_AHEAD * leaseMs ? 'take' : 'claim';
    },
    /**
     * Gives back an item written into the hand of a worker that is stopping: open and due at once,
     * claimed as usual. Not when its lease is nearly over: the write is a read and a write on
     * FerretDB, and could reopen an item another replica has just claimed; the lease runs out anyway.
     */
    release: async (written: Leased & { _id: string }, now: Date, leaseMs: number): Promise<void> => {
      if (written.state !== heldState || !written.leaseUntil || written.leaseUntil.getTime() - now.getTime() < leaseMs / 4) return;
      await model.updateOne({ _id: written._id, state: heldState, leaseUntil: written.leaseUntil }, { $set: { state: 'pending', leaseUntil: null } });
    },
  };
}

/** The share of its lease an item written into a worker's hand must still have ahead to be worked on without a claim. */
export const TAKE_WITH_LEASE_AHEAD = 0.8;
