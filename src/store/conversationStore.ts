import { Schema, type InferSchemaType, type Model, type Types } from 'mongoose';
import { at, type Pii } from '../privacy/pii';
import { insertOnce } from './insertOnce';

export const messageSchema = new Schema(
  {
    _id: { type: String, required: true }, // inbox id for inbound, outbox id for outbound
    subscriberId: { type: Schema.Types.ObjectId, required: true },
    direction: { type: String, required: true }, // in | out
    kind: { type: String, required: true }, // text, interactive, document, reaction, …
    textEnc: { type: String, default: null },
    intent: { type: String, default: null }, // what the bot understood, shown to staff
    by: { type: String, default: 'bot' }, // bot | staff:<id> | api
    status: { type: String, default: null }, // outbound: queued | sent | delivered | read | failed
    at: { type: Date, required: true },
    // Written order, for lines stamped alike (WhatsApp's timestamps are whole seconds; an engine returns ties in any order).
    seq: { type: Number, default: 0 },
  },
  { versionKey: false, collection: 'messages' },
);
messageSchema.index({ subscriberId: 1, at: 1 }); // a conversation, an export, an erasure
messageSchema.index({ at: 1 }); // live feed, retention sweeper

/** Increasing within a process (microseconds of wall time, then a counter); across processes, close to the time written. */
let lastSeq = 0;
const nextSeq = () => (lastSeq = Math.max(lastSeq + 1, Date.now() * 1000));

export type MessageDoc = InferSchemaType<typeof messageSchema> & { _id: string };

/** One line of the conversation staff see, either way. */
export interface Line {
  id: string;
  subscriberId: Types.ObjectId;
  kind: string;
  display?: string;
  by: string;
  status: string | null;
  direction?: 'in' | 'out';
  intent?: string | null;
  at: Date;
}

export type ConversationStore = ReturnType<typeof createConversationStore>;

/** The conversation lines (messages collection): the text sealed at its place. */
export function createConversationStore(model: Model<MessageDoc>, pii: Pii) {
  const open = (m: MessageDoc) => (m.textEnc ? pii.decrypt(m.textEnc, at('messages', 'textEnc', m._id)) : null);
  return {
    /** Writes a line (idempotent on its id); false when it was there already. */
    record: (l: Line) =>
      insertOnce(model, {
        seq: nextSeq(),
        _id: l.id,
        subscriberId: l.subscriberId,
        direction: l.direction ?? 'out',
        kind: l.kind,
        textEnc: l.display ? pii.encrypt(l.display, at('messages', 'textEnc', l.id)) : null,
        intent: l.intent ?? null,
        by: l.by,
        status: l.status,
        at: l.at,
      }),
    /** Moves an outbound line's delivery status (nothing when there is no line). */
    setStatus: (id: string, status: string) => model.updateOne({ _id: id }, { $set: { status } }).then(() => undefined),
    /**
     * A person's lines with their text opened: oldest first, or the newest `limit` (newest first);
     * lines stamped alike (a reply in the same millisecond as the message it answers) in the order written
     * (lines written before that order was kept: a message before its reply).
     */
    async linesOf(subscriberId: Types.ObjectId, o: { newestFirst?: boolean; limit?: number } = {}) {
      const rows = await model
        .find({ subscriberId })
        .sort(o.newestFirst ? { at: -1, seq: -1, direction: -1 } : { at: 1, seq: 1, direction: 1 })
        .limit(o.limit ?? 0)
        // Large batches: an export reads a whole conversation (10,000 lines in 10 round trips, not 40).
        .batchSize(1000)
        .lean<MessageDoc[]>();
      return rows.map((m) => ({ ...m, text: open(m) }));
    },
    newest: () => model.findOne({}, { _id: 1, subscriberId: 1 }).sort({ at: -1 }).lean<Pick<MessageDoc, '_id' | 'subscriberId'>>(),
    removeAllOf: async (subscriberId: Types.ObjectId) => (await model.deleteMany({ subscriberId })).deletedCount,
  };
}
