import { Schema, type InferSchemaType, type Model, type Types } from 'mongoose';
import { at, type Pii } from '../privacy/pii';
import { insertOnce } from './insertOnce';

export const consentSchema = new Schema(
  {
    _id: { type: String, required: true }, // request id + action: a replayed step inserts nothing new
    subscriberId: { type: Schema.Types.ObjectId, required: true },
    action: { type: String, required: true }, // grant | withdraw
    scope: { type: String, default: 'marketing' },
    source: { type: String, required: true }, // keyword | button | link | staff | api | meta_preferences | meta_131050
    detailEnc: { type: String, default: null }, // the API caller's stated source ("web form"), sealed: free text
    sourceRef: { type: String, default: null }, // the opt-in link's code (store/optInSourceStore.ts): names no one
    at: { type: Date, required: true },
  },
  { versionKey: false, collection: 'consents' },
);
consentSchema.index({ subscriberId: 1, at: 1 });
consentSchema.index({ sourceRef: 1, at: 1 }); // the consents an opt-in link brought

export type ConsentDoc = InferSchemaType<typeof consentSchema> & { _id: string };
export type ConsentSource = 'keyword' | 'button' | 'link' | 'staff' | 'api' | 'meta_preferences' | 'meta_131050';

export interface ConsentEvent {
  id: string;
  subscriberId: Types.ObjectId;
  action: 'grant' | 'withdraw' | 'resume';
  source: ConsentSource;
  /** Free text (the API caller's stated source): sealed, never stored in the clear. */
  detail?: string;
  /** The opt-in link it came through (its code). */
  sourceRef?: string;
  /** When the person acted: the message's or preference's timestamp, the API's collectedAt. */
  at: Date;
}

/** The consent history: one document per event, its id derived from the request that caused it. */
export function createConsentStore(model: Model<ConsentDoc>, pii: Pii) {
  return {
    /** Records one event; false on a replay (a redelivery, a crash and a new claim). */
    record: ({ id, detail, ...event }: ConsentEvent) =>
      insertOnce(model, {
        _id: id,
        ...event,
        sourceRef: event.sourceRef ?? null,
        scope: 'marketing',
        detailEnc: detail ? pii.encrypt(detail, at('consents', 'detailEnc', id)) : null,
      }),
    exists: async (id: string) => Boolean(await model.exists({ _id: id })),
    /** A person's history, oldest first, with the stated source opened. */
    async historyOf(subscriberId: Types.ObjectId) {
      const rows = await model.find({ subscriberId }).sort({ at: 1 }).lean();
      return rows.map((c) => ({
        action: c.action,
        scope: c.scope,
        source: c.source,
        sourceRef: c.sourceRef ?? null,
        detail: c.detailEnc ? pii.decrypt(c.detailEnc, at('consents', 'detailEnc', c._id)) : null,
        at: c.at,
      }));
    },
    /** Grants that came through an opt-in link, newest first (the integration API). */
    grantsThrough: (sourceRef: string, limit: number) =>
      model.find({ sourceRef, action: 'grant' }, { subscriberId: 1, at: 1 }).sort({ at: -1 }).limit(limit).lean(),
    removeAllOf: (subscriberId: Types.ObjectId) => model.deleteMany({ subscriberId }).then(() => undefined),
  };
}

export type ConsentStore = ReturnType<typeof createConsentStore>;
