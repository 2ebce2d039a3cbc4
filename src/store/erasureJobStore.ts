import { Schema, type InferSchemaType, type Model, type Types } from 'mongoose';
import { at, type Pii } from '../privacy/pii';
import type { ClaimStore } from './claimStore';
import { insertOnce } from './insertOnce';
import type { Recipient } from './subscriberStore';

export const erasureJobSchema = new Schema(
  {
    _id: { type: String, required: true }, // the erasure request id
    subscriberId: { type: Schema.Types.ObjectId, required: true },
    subscriberToken: { type: String, required: true },
    toEnc: { type: String, required: true }, // to send the final confirmation after the profile is gone
    phoneNumberId: { type: String, required: true }, // the business number to confirm from
    locale: { type: String, required: true },
    state: { type: String, required: true }, // running | done
    leaseUntil: { type: Date, default: null },
    startedAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'erasureJobs' },
);
erasureJobSchema.index({ state: 1, leaseUntil: 1 });

export type ErasureJobDoc = InferSchemaType<typeof erasureJobSchema> & { _id: string };
export type ErasureJob = ErasureJobDoc;

const LEASE_MS = 60_000;

export type ErasureJobStore = ReturnType<typeof createErasureJobStore>;

/**
 * Erasures in progress: a durable job per confirmed DELETE, leased so that exactly one runner
 * works on it and a crashed one is resumed. The recipient is kept sealed only until the final
 * confirmation is queued.
 */
export function createErasureJobStore(model: Model<ErasureJobDoc>, pii: Pii, claims: ClaimStore) {
  return {
    /** Starts a job; false when it was started before (the run resumes it). */
    start: (j: { id: string; subscriberId: Types.ObjectId; subscriberToken: string; to: Recipient; phoneNumberId: string; locale: string; now: Date }) =>
      insertOnce(model, {
        _id: j.id,
        subscriberId: j.subscriberId,
        subscriberToken: j.subscriberToken,
        toEnc: pii.encrypt(JSON.stringify(j.to), at('erasureJobs', 'toEnc', j.id)),
        phoneNumberId: j.phoneNumberId,
        locale: j.locale,
        state: 'running',
        leaseUntil: new Date(j.now.getTime() + LEASE_MS),
        startedAt: j.now,
      }),
    /** The erasure running for this person, if any (its id). */
    runningFor: async (subscriberId: Types.ObjectId) =>
      ((await model.findOne({ subscriberId, state: 'running' }, { _id: 1 }).lean()) as { _id: string } | null)?._id ?? null,
    /** Whether an erasure was started for this request (running or done). */
    exists: async (id: string) => Boolean(await model.exists({ _id: id })),
    /** A job still to run (null when unknown or done). */
    async running(id: string): Promise<ErasureJob | null> {
      const j = await model.findById(id).lean<ErasureJobDoc>();
      return j && j.state !== 'done' ? j : null;
    },
    /** Where to send the final confirmation: opened last, after the data is gone (a key problem cannot hold up an erasure). */
    recipientOf: (j: Pick<ErasureJobDoc, '_id' | 'toEnc'>) => JSON.parse(pii.decrypt(j.toEnc, at('erasureJobs', 'toEnc', j._id))) as Recipient,
    /** Keeps the lease while working: a long history can outlast one lease. */
    heartbeat: (id: string, now: Date) => model.updateOne({ _id: id }, { $set: { leaseUntil: new Date(now.getTime() + LEASE_MS) } }).then(() => undefined),
    /**
     * Claims a running job whose runner stopped (its lease ran out): the lease that ran out names
     * the claim, so of the replicas that find it, one wins (store/claimStore.ts).
     */
    async claimAbandoned(now: Date): Promise<string | null> {
      const job = await model
        .findOne({ state: 'running', leaseUntil: { $lt: now } }, { _id: 1, leaseUntil: 1 })
        .lean<Pick<ErasureJobDoc, '_id' | 'leaseUntil'>>();
      if (!job || !(await claims.win('erasure', job._id, job.leaseUntil?.getTime() ?? 0, now, LEASE_MS))) return null;
      await model.updateOne({ _id: job._id }, { $set: { leaseUntil: new Date(now.getTime() + LEASE_MS) } });
      return job._id;
    },
    finish: (id: string) => model.updateOne({ _id: id }, { $set: { state: 'done', leaseUntil: null }, $unset: { toEnc: 1 } }).then(() => undefined),
    sweep: async (before: Date) => (await model.deleteMany({ state: 'done', startedAt: { $lt: before } })).deletedCount,
  };
}
