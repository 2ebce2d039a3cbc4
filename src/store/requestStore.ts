import { Schema, type InferSchemaType, type Model } from 'mongoose';
import { insertOnce } from './insertOnce';

export const requestSchema = new Schema(
  {
    _id: { type: String, required: true }, // request id (= the inbox item that asked, or a generated id)
    subscriberToken: { type: String, required: true }, // pseudonymous: blind index of the number
    type: { type: String, required: true }, // opt_out | opt_in | access | erasure
    channel: { type: String, required: true }, // chat | staff | api | meta
    receivedAt: { type: Date, required: true },
    dueAt: { type: Date, required: true },
    regime: { type: String, required: true },
    state: { type: String, required: true }, // open | done | cancelled | expired
    doneAt: { type: Date, default: null },
    outcome: { type: String, default: null },
    // When the person (or staff) confirmed an erasure: from then on it is the erasure job's to close,
    // never expired or cancelled by a sweep or a staff decision racing it.
    confirmedAt: { type: Date, default: null },
  },
  { versionKey: false, collection: 'requests' },
);
requestSchema.index({ subscriberToken: 1, receivedAt: 1 });
requestSchema.index({ state: 1, dueAt: 1 });
requestSchema.index({ receivedAt: 1 }); // the audit report's period

export type RequestDoc = InferSchemaType<typeof requestSchema> & { _id: string };
export type RequestState = 'open' | 'done' | 'cancelled' | 'expired';

export type RequestStore = ReturnType<typeof createRequestStore>;

/**
 * Rights requests as STATUS, the console and audits read them: pseudonymous (a keyed token of the
 * person, never a number), each with its due date under the applicable regime.
 */
export function createRequestStore(model: Model<RequestDoc>) {
  return {
    /**
     * Opens a request; false when it exists already (a replayed step). A request carried out at
     * once (STOP, START) is written closed: one insert instead of an insert and an update.
     */
    open: (
      r: { id: string; subscriberToken: string; type: string; channel: string; receivedAt: Date; dueAt: Date; regime: string },
      closed?: { state: Exclude<RequestState, 'open'>; outcome: string; at: Date },
    ) =>
      insertOnce(model, {
        _id: r.id,
        subscriberToken: r.subscriberToken,
        type: r.type,
        channel: r.channel,
        receivedAt: r.receivedAt,
        dueAt: r.dueAt,
        regime: r.regime,
        state: closed?.state ?? 'open',
        doneAt: closed?.at ?? null,
        outcome: closed?.outcome ?? null,
      }),
    exists: async (id: string) => Boolean(await model.exists({ _id: id })),
    get: (id: string) => model.findById(id).lean<RequestDoc>(),
    /**
     * Closes an open request. Read, then write by `_id` alone: a request is handled by one worker at
     * a time (per-subscriber order), and FerretDB pushes down only `_id` filters. Returns its type.
     */
    async close(id: string, state: Exclude<RequestState, 'open'>, outcome: string, when: Date, type?: string): Promise<string | null> {
      // The caller that knows the type closes with one conditional write.
      if (type) {
        await model.updateOne({ _id: id, state: 'open' }, { $set: { state, outcome, doneAt: when } });
        return type;
      }
      const current = await model.findById(id, { type: 1, state: 1 }).lean();
      if (current?.state === 'open') await model.updateOne({ _id: id }, { $set: { state, outcome, doneAt: when } });
      return current?.type ?? null;
    },
    /**
     * Claims an open request for the erasure that confirms it: false when it closed unconfirmed first
     * (expired, cancelled), true when claimed now or before (a replay). Conditional on the request
     * itself, so a "Yes" racing the expiry sweep or a staff close has one winner, without transactions.
     */
    async claimConfirmation(id: string, at: Date): Promise<boolean> {
      const r = await model.updateOne({ _id: id, state: 'open', confirmedAt: null }, { $set: { confirmedAt: at } });
      if (r.modifiedCount === 1) return true;
      const current = await model.findById(id, { state: 1, confirmedAt: 1 }).lean();
      return !current || Boolean(current.confirmedAt);
    },
    /**
     * Closes an open request nobody has confirmed (the other side of claimConfirmation). True when
     * it closed now, or was already closed this way (a replay, so its ledger entry is written again).
     */
    async closeUnconfirmed(id: string, state: Exclude<RequestState, 'open'>, outcome: string, when: Date): Promise<boolean> {
      const r = await model.updateOne({ _id: id, state: 'open', confirmedAt: null }, { $set: { state, outcome, doneAt: when } });
      if (r.modifiedCount === 1) return true;
      const current = await model.findById(id, { state: 1 }).lean();
      return current?.state === state;
    },
    countSince: (subscriberToken: string, type: string, since: Date) => model.countDocuments({ subscriberToken, type, receivedAt: { $gte: since } }),
    /** A person's requests, oldest first (only the open ones when asked). */
    ofPerson: (subscriberToken: string, o: { openOnly?: boolean; limit?: number; newestFirst?: boolean } = {}) =>
      model
        .find({ subscriberToken, ...(o.openOnly ? { state: 'open' } : {}) })
        .sort({ receivedAt: o.newestFirst ? -1 : 1 })
        .limit(o.limit ?? 0)
        .lean<RequestDoc[]>(),
    /** Chat erasures still open that were received before `before` (their question has lapsed, unless confirmed). */
    unconfirmedErasures: (before: Date, limit: number) =>
      model
        .find({ state: 'open', type: 'erasure', channel: 'chat', confirmedAt: null, receivedAt: { $lt: before } }, { _id: 1, subscriberToken: 1 })
        .limit(limit)
        .lean<Pick<RequestDoc, '_id' | 'subscriberToken'>[]>(),
    /** Erasures claimed by a confirmation before `before` and still open (their job should exist by now). */
    claimedErasures: (before: Date, limit: number) =>
      model
        .find({ state: 'open', type: 'erasure', confirmedAt: { $lt: before } }, { _id: 1, subscriberToken: 1 })
        .limit(limit)
        .lean<Pick<RequestDoc, '_id' | 'subscriberToken'>[]>(),
    openOf: (tokens: string[]) => model.find({ subscriberToken: { $in: tokens }, state: 'open' }).lean<RequestDoc[]>(),
    /** The compliance view: by type and state, or only the overdue ones; soonest due first. */
    list: (f: { type?: string; state?: string; overdueAt?: Date }) =>
      model
        .find({
          ...(f.type ? { type: f.type } : {}),
          ...(f.state ? { state: f.state } : {}),
          ...(f.overdueAt ? { state: 'open', dueAt: { $lt: f.overdueAt } } : {}),
        })
        .sort({ dueAt: 1 })
        .limit(500)
        .lean<RequestDoc[]>(),
    /** Every request received in [from, to), streamed in batches of 1,000 (the audit report keeps counts, not rows). */
    receivedBetween: (
      from: Date,
      to: Date,
    ): AsyncIterable<Pick<RequestDoc, '_id' | 'type' | 'channel' | 'state' | 'receivedAt' | 'dueAt' | 'doneAt' | 'regime' | 'outcome'>> =>
      model
        .find({ receivedAt: { $gte: from, $lt: to } }, { type: 1, channel: 1, state: 1, receivedAt: 1, dueAt: 1, doneAt: 1, regime: 1, outcome: 1 })
        .lean()
        .batchSize(1000)
        .cursor(),
    /** The person's token changed (a new number, or their number became known): requests follow. */
    rekey: (oldToken: string, newToken: string) =>
      model.updateMany({ subscriberToken: oldToken }, { $set: { subscriberToken: newToken } }).then(() => undefined),
    /** Retention: finished requests received before `before`. */
    sweep: async (before: Date) => (await model.deleteMany({ state: { $ne: 'open' }, receivedAt: { $lt: before } })).deletedCount,
  };
}
