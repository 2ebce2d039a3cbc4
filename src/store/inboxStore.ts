import { Schema, type InferSchemaType, type Model } from 'mongoose';
import { at, type Pii } from '../privacy/pii';
import { writtenInHand, type ClaimStore } from './claimStore';
import { openFlagRules } from './openFlag';

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
    // true while the state is pending or processing: the workers' window is an equality filter, which
    // every engine serves from an index (FerretDB v1 pushes down equality, never `$in`).
    open: { type: Boolean, default: true },
    leaseUntil: { type: Date, default: null },
    attempts: { type: Number, default: 0 },
    lastError: { type: String, default: null },
    processedAt: { type: Date, default: null },
  },
  { versionKey: false, collection: 'inbox' },
);
inboxSchema.index({ open: 1, order: 1, receivedAt: 1 }); // claim: oldest open first
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
  const flags = openFlagRules(model, OPEN);
  return {
    model,
    /** Inserts a batch; duplicates (redeliveries) are skipped by the unordered insert. */
    insertMany: (docs: Record<string, unknown>[]) =>
      model.collection.insertMany(docs.map((d) => ({ ...d, open: OPEN.includes(String(d.state)) })) as never[], { ordered: false }),
    isEmpty: flags.isEmpty,
    markOpen: flags.markOpen,
    openItems: async (limit: number) =>
      flags.openOnly(
        await model
          .find({ open: true }, { _id: 1, subscriberKey: 1, order: 1, state: 1, leaseUntil: 1, attempts: 1 })
          .sort({ order: 1, receivedAt: 1 })
          .limit(limit)
          .lean<Head[]>(),
      ),
    /** Claims an open item seen in the window: one replica wins it (store/claimStore.ts), and leases it. */
    async claim(item: Pick<Head, '_id' | 'attempts'>, now: Date, leaseMs: number): Promise<InboxDoc | null> {
      if (!(await claims.win('inbox', item._id, item.attempts ?? 0, now, leaseMs))) return null;
      const update = { $set: { state: 'processing', leaseUntil: new Date(now.getTime() + leaseMs), attempts: (item.attempts ?? 0) + 1 } };
      return model.findOneAndUpdate({ _id: item._id }, update, { returnDocument: 'after' }).lean<InboxDoc>();
    },
    /**
     * Claims an item this process stored a moment ago, from the document as written: winning the
     * claim is enough (no read, no lease write; store/claimStore.ts keeps others off it, and a
     * crash leaves the claim to go stale). If the item moved on since (another replica retried
     * it), the usual claim decides.
     */
    async claimOffered(seen: Pick<Head, '_id' | 'attempts' | 'state'>, offered: InboxDoc, now: Date, leaseMs: number): Promise<InboxDoc | null> {
      if (seen.state !== 'pending' || (seen.attempts ?? 0) !== (offered.attempts ?? 0)) return this.claim(seen, now, leaseMs);
      if (!(await claims.win('inbox', seen._id, offered.attempts ?? 0, now, leaseMs))) return null;
      return { ...offered, state: 'processing', leaseUntil: new Date(now.getTime() + leaseMs), attempts: (offered.attempts ?? 0) + 1 };
    },
    // Written leased to this process's worker (lib/handOver.ts): worked on without a claim, given back on stop.
    ...writtenInHand(model, 'processing'),
    payloadOf: (doc: Pick<InboxDoc, '_id' | 'payloadEnc'>) => JSON.parse(pii.decrypt(doc.payloadEnc!, at('inbox', 'payloadEnc', doc._id))) as InboundPayload,
    // By _id alone (FerretDB pushes down nothing else); marking done twice after a lost lease is harmless.
    /** Finished; `attempts` is recorded too (an item claimed as offered was never leased in the database). */
    done: (id: string, now: Date, attempts: number) =>
      model
        .updateOne({ _id: id }, { $set: { state: 'done', open: false, processedAt: now, leaseUntil: null, lastError: null, attempts } })
        .then(() => undefined),
    failed: (id: string, lastError: string) =>
      model.updateOne({ _id: id }, { $set: { state: 'failed', open: false, leaseUntil: null, lastError } }).then(() => undefined),
    /** Retry once `until` has passed; `attempts` (claims so far) names the next claim (store/claimStore.ts). */
    retryAfter: (id: string, until: Date, lastError: string, attempts: number) =>
      // Only while open: a late retry after another replica finished (or erased) it must not reopen it.
      model.updateOne({ _id: id, open: true }, { $set: { state: 'processing', leaseUntil: until, lastError, attempts } }).then(() => undefined),
    backlog: () => model.countDocuments({ open: true }),
    /** The person's token changed: their items follow (so per-person order and erasure find them). */
    rekey: (oldKey: string, newKey: string) => model.updateMany({ subscriberKey: oldKey }, { $set: { subscriberKey: newKey } }).then(() => undefined),
    /** Erasure: items keep only their keyed dedupe id until the retention sweep, nothing of the person. */
    // One equality update per key (not `$in`): FerretDB v1 reads the whole collection for an `$in`.
    eraseOf: async (keys: string[]) => {
      for (const subscriberKey of new Set(keys))
        await model.updateMany(
          { subscriberKey },
          {
            $set: { state: 'erased', open: false, field: 'erased', type: 'erased', leaseUntil: null },
            $unset: { payloadEnc: 1, subscriberKey: 1, lastError: 1 },
          },
        );
    },
    sweep: async (before: Date) => (await model.deleteMany({ state: { $in: FINISHED }, receivedAt: { $lt: before } })).deletedCount,
  };
}
