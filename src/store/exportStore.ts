import { Schema, type InferSchemaType, type Model, type Types } from 'mongoose';
import { at, type Pii } from '../privacy/pii';
import { insertOnce } from './insertOnce';

export const exportSchema = new Schema(
  {
    _id: { type: String, required: true },
    subscriberId: { type: Schema.Types.ObjectId, required: true, index: true }, // an erasure deletes by person
    contentEnc: { type: String, required: true }, // the file, sealed at its place
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true, index: true }, // the retention sweep
  },
  { versionKey: false, collection: 'exports' },
);

export type ExportDoc = InferSchemaType<typeof exportSchema> & { _id: string };

export type ExportStore = ReturnType<typeof createExportStore>;

/** MY DATA files, sealed, kept until they expire (the outbox uploads them; the sandbox offers them). */
export function createExportStore(model: Model<ExportDoc>, pii: Pii) {
  return {
    /** Which of these ids are stored already (a replay keeps the first copy). */
    storedAmong: async (ids: string[]) => new Set((await model.find({ _id: { $in: ids } }, { _id: 1 }).lean()).map((e) => String(e._id))),
    put: (id: string, subscriberId: Types.ObjectId, content: string, createdAt: Date, expiresAt: Date) =>
      insertOnce(model, { _id: id, subscriberId, contentEnc: pii.encrypt(content, at('exports', 'contentEnc', id)), createdAt, expiresAt }),
    /** An export (null when gone: expired or erased); its content is opened only when asked for. */
    async get(id: string): Promise<{ subscriberId: Types.ObjectId; createdAt: Date; expiresAt: Date; open: () => string } | null> {
      const e = await model.findById(id).lean<ExportDoc>();
      return e
        ? {
            subscriberId: e.subscriberId,
            createdAt: e.createdAt,
            expiresAt: e.expiresAt,
            open: () => pii.decrypt(e.contentEnc, at('exports', 'contentEnc', e._id)),
          }
        : null;
    },
    removeAllOf: (subscriberId: Types.ObjectId) => model.deleteMany({ subscriberId }).then(() => undefined),
    sweep: async (now: Date) => (await model.deleteMany({ expiresAt: { $lt: now } })).deletedCount,
  };
}
