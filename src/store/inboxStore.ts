import { Schema, type InferSchemaType, type Model } from 'mongoose';
import { at, type Pii } from '../privacy/pii';
import type { ClaimStore } from './claimStore';

export const inboxSchema = new Schema(
  {
    _id: { type: String, required: true }, // keyed HMAC of Meta's id (privacy/ids.ts): Meta's redeliveries collide here
    field: { type: String, required: true }, // messages | statuses | user_preferences | system | <unknown field>
    type: { type: String, required: true }, // text, interactive, status:delivered, …
    subscriberKey: { type: String, default: null }, // blind index of the sender (or recipient); null when none can be read
    payloadEnc: { type: String, default: null }, // the item with its contact and metadata, sealed; gone once erased
    order: { type: Number, required: true }, // WhatsApp timestamp * 1000 + position in the delivery
    receivedAt: { type: Date, required: true },
    state: { type: String, required: true, default: 'pending' }, // pending | processing | done | failed | ignored | erased (dedupe key only)
    leaseUntil: { type: Date, default: null },
    attempts: { type: Number, default: 0 },
    lastError: { type: String, default: null },
    processedAt: { type: Date, default: null },
  },
  { versionKey: false, collection: 'inbox' },
);
inboxSchema.index({ state: 1, order: 1 }); // claim: oldest pending first
inboxSchema.index({ subscriberKey: 1, order: 1 }); // per-subscriber order: is an earlier item still open?
inboxSchema.index({ state: 1, leaseUntil: 1 }); // reclaim expired leases
inboxSchema.index({ receivedAt: 1 }); // retention sweeper

/** A webhook item as stored (sealed): its field, the business number, the item and its sender's contact. */
export interface InboundPayload {
  field: string;
  phoneNumberId?: string;
  // Meta's item shapes vary by type and grow over time; the chat code narrows what it reads.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  item: Record<string, any>;
  contact?: { wa_id?: string; user_id?: string; profile?: { name?: string; username?: string } };
}

/** An inbox item as the processing code sees it: decrypted payload, claim metadata. */
export interface ClaimedItem {
  id: string;
  field: string;
  type: string;
  subscriberKey: string | null;
  payload: InboundPayload;
  attempts: number;
  receivedAt: Date;
}

export type InboxDoc = InferSchemaType<typeof inboxSchema> & { _id: string };
type Head = Pick<InboxDoc, '_id' | 'subscriberKey' | 'order' | 'state' | 'leaseUntil' | 'attempts'>;

const OPEN = ['pending', 'processing'];
const FINISHED = ['done', 'ignored', 'failed', 'erased'];

export type InboxStore = ReturnType<typeof createInboxStore>;

/**
 * The inbox: every webhook item, stored (sealed) before the 200, deduplicated by a keyed id of
 * Meta's, and processed in order per person after it.
 */
export function createInboxStore(model: Model<InboxDoc>, pii: Pii, claims: ClaimStore) {
  return {
    model,
    /** Inserts a batch; duplicates (redeliveries) are skipped by the unordered insert. */
    insertMany: (docs: Record<string, unknown>[]) => model.collection.insertMany(docs as never[], { ordered: false }),
    openItems: (limit: number) =>
      model
        .find({ state: { $in: OPEN } }, { _id: 1, subscriberKey: 1, order: 1, state: 1, leaseUntil: 1, attempts: 1 })
        .sort({ order: 1, receivedAt: 1 })
        .limit(limit)
        .lean<Head[]>(),
    /** Claims an open item seen in the window: one replica wins it (store/claimStore.ts), and leases it. */
    async claim(item: Pick<Head, '_id' | 'attempts'>, now: Date, leaseMs: number): Promise<InboxDoc | null> {
      if (!(await claims.win('inbox', item._id, item.attempts ?? 0, now, leaseMs))) return null;
      const update = { $set: { state: 'processing', leaseUntil: new Date(now.getTime() + leaseMs), attempts: (item.attempts ?? 0) + 1 } };
      return model.findOneAndUpdate({ _id: item._id }, update, { returnDocument: 'after' }).lean<InboxDoc>();
    },
    payloadOf: (doc: Pick<InboxDoc, '_id' | 'payloadEnc'>) => JSON.parse(pii.decrypt(doc.payloadEnc!, at('inbox', 'payloadEnc', doc._id))) as InboundPayload,
    // By _id alone (FerretDB pushes down nothing else); marking done twice after a lost lease is harmless.
    done: (id: string, now: Date) =>
      model.updateOne({ _id: id }, { $set: { state: 'done', processedAt: now, leaseUntil: null, lastError: null } }).then(() => undefined),
    failed: (id: string, lastError: string) => model.updateOne({ _id: id }, { $set: { state: 'failed', leaseUntil: null, lastError } }).then(() => undefined),
    retryAfter: (id: string, until: Date, lastError: string) => model.updateOne({ _id: id }, { $set: { leaseUntil: until, lastError } }).then(() => undefined),
    backlog: () => model.countDocuments({ state: { $in: OPEN } }),
    /** The person's token changed: their items follow (so per-person order and erasure find them). */
    rekey: (oldKey: string, newKey: string) => model.updateMany({ subscriberKey: oldKey }, { $set: { subscriberKey: newKey } }).then(() => undefined),
    /** Erasure: items keep only their keyed dedupe id until the retention sweep, nothing of the person. */
    eraseOf: (keys: string[]) =>
      model
        .updateMany(
          { subscriberKey: { $in: keys } },
          { $set: { state: 'erased', field: 'erased', type: 'erased', leaseUntil: null }, $unset: { payloadEnc: 1, subscriberKey: 1, lastError: 1 } },
        )
        .then(() => undefined),
    sweep: async (before: Date) => (await model.deleteMany({ state: { $in: FINISHED }, receivedAt: { $lt: before } })).deletedCount,
  };
}
