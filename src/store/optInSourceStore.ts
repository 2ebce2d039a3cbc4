import { Schema, type InferSchemaType, type Model } from 'mongoose';
import { insertOnce } from './insertOnce';

/**
 * Where opt-ins come from: a web page, a receipt's QR code, an ad. Each source has a short code
 * that its wa.me link puts in the prefilled message ("START #k3f9q2xa"); a START carrying it is
 * recorded with that source (rights/optIn.ts), so the business can prove which one a consent
 * came from. Nothing here is about a person.
 */
export const optInSourceSchema = new Schema(
  {
    _id: { type: String, required: true }, // the code (8 of [a-z0-9])
    name: { type: String, required: true },
    purpose: { type: String, required: true }, // what the person is told they opt in to
    createdBy: { type: String, default: null }, // staff id
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'optInSources' },
);

export type OptInSourceDoc = InferSchemaType<typeof optInSourceSchema> & { _id: string };
export type OptInSourceStore = ReturnType<typeof createOptInSourceStore>;

export function createOptInSourceStore(model: Model<OptInSourceDoc>) {
  return {
    /** False when the code is taken (another source has it). */
    create: (s: { code: string; name: string; purpose: string; by: string | null; now: Date }) =>
      insertOnce(model, { _id: s.code, name: s.name, purpose: s.purpose, createdBy: s.by, createdAt: s.now }),
    byCode: (code: string) => model.findById(code).lean<OptInSourceDoc>(),
    list: () => model.find({}).sort({ createdAt: -1 }).limit(500).lean<OptInSourceDoc[]>(),
  };
}
