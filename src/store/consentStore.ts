import { Schema, type InferSchemaType, type Model, type Types } from 'mongoose';
import { at, type Pii } from '../privacy/pii';
import { insertOnce } from './insertOnce';

export const consentSchema = new Schema(
  {
    _id: { type: String, required: true }, // request id + action: a replayed step inserts nothing new
    subscriberId: { type: Schema.Types.ObjectId, required: true },
    action: { type: String, required: true }, // grant | withdraw
    scope: { type: String, default: 'marketing' },
    source: { type: String, required: true }, // keyword | button | staff | api | meta_preferences | meta_131050
    detailEnc: { type: String, default: null }, // the API caller's stated source ("web form"), sealed: free text
    at: { type: Date, required: true },
  },
  { versionKey: false, collection: 'consents' },
);
consentSchema.index({ subscriberId: 1, at: 1 });

export type ConsentDoc = InferSchemaType<typeof consentSchema> & { _id: string };
export type ConsentSource = 'keyword' | 'button' | 'staff' | 'api' | 'meta_preferences' | 'meta_131050';

export interface ConsentEvent {
  id: string;
  subscriberId: Types.ObjectId;
  action: 'grant' | 'withdraw' | 'resume';
  source: ConsentSource;
  /** Free text (the API caller's stated source): sealed, never stored in the clear. */
  detail?: string;
  /** When the person acted: the message's or preference's timestamp, the API's collectedAt. */
  at: Date;
}

/** The consent history: one document per event, its id derived from the request that caused it. */
export function createConsentStore(model: Model<ConsentDoc>, pii: Pii) {
  return {
    /** Records one event; false on a replay (a redelivery, a crash and a new claim). */
    record: ({ id, detail, ...event }: ConsentEvent) =>
      insertOnce(model, { _id: id, ...event, scope: 'marketing', detailEnc: detail ? pii.encrypt(detail, at('consents', 'detailEnc', id)) : null }),
    exists: async (id: string) => Boolean(await model.exists({ _id: id })),
    /** A person's history, oldest first, with the stated source opened. */
    async historyOf(subscriberId: Types.ObjectId) {
      const rows = await model.find({ subscriberId }).sort({ at: 1 }).lean();
      return rows.map((c) => ({
        action: c.action,
        scope: c.scope,
        source: c.source,
        detail: c.detailEnc ? pii.decrypt(c.detailEnc, at('consents', 'detailEnc', c._id)) : null,
        at: c.at,
      }));
    },
    removeAllOf: (subscriberId: Types.ObjectId) => model.deleteMany({ subscriberId }).then(() => undefined),
  };
}

export type ConsentStore = ReturnType<typeof createConsentStore>;
