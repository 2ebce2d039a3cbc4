import { Schema, type Model } from 'mongoose';
import type { ClaimStore } from './claimStore';
import { upsertTolerant } from './insertOnce';

/** Documents uploaded to Meta (MY DATA) that must be deleted there once delivered or failed. */
export const mediaDeletionSchema = new Schema(
  {
    _id: { type: String, required: true }, // Meta's media id (a number of Meta's, not the person's)
    phoneNumberId: { type: String, required: true },
    dueAt: { type: Date, required: true },
    attempts: { type: Number, default: 0 },
    leaseUntil: { type: Date, default: null },
  },
  { versionKey: false, collection: 'mediaDeletions' },
);
mediaDeletionSchema.index({ dueAt: 1 });

type MediaDeletionDoc = { _id: string; phoneNumberId: string; dueAt: Date; attempts: number; leaseUntil: Date | null };

export type MediaDeletionStore = ReturnType<typeof createMediaDeletionStore>;

export function createMediaDeletionStore(model: Model<MediaDeletionDoc>, claims: ClaimStore) {
  return {
    /** Scheduling is an upsert by media id; an earlier due date wins. */
    async schedule(items: { mediaId: string; phoneNumberId: string }[], dueAt: Date): Promise<void> {
      for (const it of items) {
        await upsertTolerant(
          model.updateOne({ _id: it.mediaId }, { $min: { dueAt }, $setOnInsert: { phoneNumberId: it.phoneNumberId, attempts: 0 } }, { upsert: true }),
        );
      }
    },
    dueIds: async (now: Date, limit: number) =>
      (
        await model
          .find({ dueAt: { $lte: now } }, { _id: 1 })
          .sort({ dueAt: 1 })
          .limit(limit)
          .lean()
      ).map((d) => d._id),
    /** Claims one due deletion with a lease (several replicas may run deletions; one wins: store/claimStore.ts). */
    async claim(id: string, now: Date, leaseMs: number): Promise<MediaDeletionDoc | null> {
      const d = await model.findById(id).lean<MediaDeletionDoc>();
      if (!d || d.dueAt > now || (d.leaseUntil && d.leaseUntil >= now)) return null;
      if (!(await claims.win('media', id, d.attempts ?? 0, now, leaseMs))) return null;
      const update = { $set: { leaseUntil: new Date(now.getTime() + leaseMs), attempts: (d.attempts ?? 0) + 1 } };
      return model.findOneAndUpdate({ _id: id }, update, { returnDocument: 'after' }).lean<MediaDeletionDoc>();
    },
    done: (id: string) => model.deleteOne({ _id: id }).then(() => undefined),
    later: (id: string, dueAt: Date) => model.updateOne({ _id: id }, { $set: { leaseUntil: null, dueAt } }).then(() => undefined),
  };
}
