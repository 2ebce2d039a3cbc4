import { Schema, type InferSchemaType, type Model, type Types } from 'mongoose';
import { at, type Pii } from '../privacy/pii';
import { writtenInHand, type ClaimStore } from './claimStore';
import { openFlagRules } from './openFlag';
import { insertOnce } from './insertOnce';
import type { Recipient } from './subscriberStore';

export const outboxSchema = new Schema(
  {
    _id: { type: String, required: true }, // idempotency key: inbox id + step, or API request id
    subscriberId: { type: Schema.Types.ObjectId, required: true },
    toEnc: { type: String, required: true },
    bodyEnc: { type: String, required: true }, // Graph API message body without `to`, sealed
    category: { type: String, required: true }, // rights | service | marketing
    kind: { type: String, required: true },
    state: { type: String, required: true, default: 'pending' }, // pending | sending | sent | delivered | read | failed
    open: { type: Boolean, default: true }, // pending or sending: the workers' window is an equality filter (inboxStore.ts)
    order: { type: Number, required: true },
    attempts: { type: Number, default: 0 },
    nextAttemptAt: { type: Date, required: true },
    leaseUntil: { type: Date, default: null },
    phoneNumberId: { type: String, required: true }, // the business number it is sent from
    graphKey: { type: String, default: null }, // keyed HMAC of Meta's message id (it encodes the number)
    error: { type: new Schema({ code: Number, title: String }, { _id: false }), default: null }, // title from a fixed vocabulary
    createdAt: { type: Date, required: true },
    sentAt: { type: Date, default: null },
    purgeAfterSend: { type: Boolean, default: false },
    mediaId: { type: String, default: null }, // uploaded export, kept so a retried send does not upload twice
    requestHash: { type: String, default: null }, // integration API: hash of the request an Idempotency-Key was first used with
    // The conversation line, sealed, while the sender is to write it (with how the send ended) rather
    // than the queuing step (a line written 'queued' and then moved: two writes); cleared once written.
    lineEnc: { type: String, default: null },
  },
  { versionKey: false, collection: 'outbox' },
);
outboxSchema.index({ open: 1, order: 1 }); // claim due work, oldest first
outboxSchema.index({ subscriberId: 1, order: 1 }); // per-recipient order
outboxSchema.index({ graphKey: 1 }); // status webhooks without our callback id

export type OutboxDoc = InferSchemaType<typeof outboxSchema> & { _id: string };
export type Category = 'rights' | 'service' | 'marketing';

/** States a message can still move out of (a head of its recipient's queue is one of these). */
const OPEN = ['pending', 'sending'];
const FINISHED = ['sent', 'delivered', 'read', 'failed'];

export interface NewItem {
  id: string;
  subscriberId: Types.ObjectId;
  to: Recipient;
  from: string;
  category: Category;
  kind: string;
  body: Record<string, unknown>;
  order: number;
  purgeAfterSend: boolean;
  requestHash?: string;
  now: Date;
  /** Written leased to this process's sender for this long (lib/handOver.ts); absent: written pending. */
  leaseMs?: number | null;
  /** The conversation line the sender writes once the send has ended (absent: written by the caller). */
  line?: DeferredLine | null;
}

/** What staff see of a message and who wrote it, kept with the item until the sender writes its line. */
export interface DeferredLine {
  display: string;
  by: string;
}

export type OutboxStore = ReturnType<typeof createOutboxStore>;

/**
 * The outbox: every outbound message, written durably before it is sent, with the recipient and
 * the Graph body sealed at their place. Sent in order per recipient, claimed with a lease.
 */
export function createOutboxStore(model: Model<OutboxDoc>, pii: Pii, claims: ClaimStore) {
  const flags = openFlagRules(model, OPEN);
  return {
    /** Inserts one item and returns it as stored; null when it exists (the idempotency key was used before). */
    async insert(it: NewItem): Promise<OutboxDoc | null> {
      const doc = {
        _id: it.id,
        subscriberId: it.subscriberId,
        toEnc: pii.encrypt(JSON.stringify(it.to), at('outbox', 'toEnc', it.id)),
        bodyEnc: pii.encrypt(JSON.stringify(it.body), at('outbox', 'bodyEnc', it.id)),
        phoneNumberId: it.from,
        category: it.category,
        kind: it.kind,
        // Born in the sender's hand: its first claim (store/claimStore.ts heldSinceWritten).
        state: it.leaseMs ? 'sending' : 'pending',
        open: true,
        order: it.order,
        attempts: it.leaseMs ? 1 : 0,
        nextAttemptAt: it.now,
        leaseUntil: it.leaseMs ? new Date(it.now.getTime() + it.leaseMs) : null,
        graphKey: null,
        mediaId: null,
        requestHash: it.requestHash ?? null,
        lineEnc: it.line ? pii.encrypt(JSON.stringify(it.line), at('outbox', 'lineEnc', it.id)) : null,
        error: null,
        purgeAfterSend: it.purgeAfterSend,
        createdAt: it.now,
        sentAt: null,
      };
      return (await insertOnce(model, doc)) ? (doc as unknown as OutboxDoc) : null;
    },
    byId: (id: string) => model.findById(id).lean<OutboxDoc>(),
    byGraphKey: (graphKey: string) => model.findOne({ graphKey }).lean<OutboxDoc>(),
    /** The item an Idempotency-Key names (null: never used), with the hash of the request it was first used with. */
    keyUse: (id: string) => model.findById(id, { requestHash: 1 }).lean<{ requestHash: string | null }>(),
    bodyOf: (o: Pick<OutboxDoc, '_id' | 'bodyEnc'>) => JSON.parse(pii.decrypt(o.bodyEnc, at('outbox', 'bodyEnc', o._id))) as Record<string, unknown>,
    /** The line the sender is to write, or null when it was written already. */
    lineOf: (o: Pick<OutboxDoc, '_id' | 'lineEnc'>) =>
      o.lineEnc ? (JSON.parse(pii.decrypt(o.lineEnc, at('outbox', 'lineEnc', o._id))) as DeferredLine) : null,
    recipientOf: (o: Pick<OutboxDoc, '_id' | 'toEnc'>) => JSON.parse(pii.decrypt(o.toEnc, at('outbox', 'toEnc', o._id))) as { phone?: string; bsuid?: string },
    /** Bodies of these items (the simulator shows the buttons it received). */
    bodiesOf: async (ids: string[]) =>
      new Map(
        (await model.find({ _id: { $in: ids } }, { bodyEnc: 1 }).lean()).map((o) => [
          String(o._id),
          JSON.parse(pii.decrypt(o.bodyEnc, at('outbox', 'bodyEnc', o._id))) as Record<string, unknown>,
        ]),
      ),

    isEmpty: flags.isEmpty,
    markOpen: flags.markOpen,
    /** Every open item in order (a recipient's head is its oldest open item). */
    openItems: async (limit: number) =>
      flags.openOnly(
        await model
          .find({ open: true }, { _id: 1, subscriberId: 1, order: 1, state: 1, nextAttemptAt: 1, leaseUntil: 1, attempts: 1 })
          .sort({ order: 1 })
          .limit(limit)
          .lean<Pick<OutboxDoc, '_id' | 'subscriberId' | 'order' | 'state' | 'nextAttemptAt' | 'leaseUntil' | 'attempts'>[]>(),
      ),
    /** Claims an open item seen in the window: one replica wins it (store/claimStore.ts), and leases it. */
    async claim(item: Pick<OutboxDoc, '_id' | 'attempts'>, now: Date, leaseMs: number): Promise<OutboxDoc | null> {
      if (!(await claims.win('outbox', item._id, item.attempts ?? 0, now, leaseMs))) return null;
      const update = { $set: { state: 'sending', leaseUntil: new Date(now.getTime() + leaseMs), attempts: (item.attempts ?? 0) + 1 } };
      return model.findOneAndUpdate({ _id: item._id }, update, { returnDocument: 'after' }).lean<OutboxDoc>();
    },
    /** Claims an item this process queued a moment ago, from the document as written (inboxStore.claimOffered). */
    async claimOffered(seen: Pick<OutboxDoc, '_id' | 'attempts' | 'state'>, offered: OutboxDoc, now: Date, leaseMs: number): Promise<OutboxDoc | null> {
      if (seen.state !== 'pending' || (seen.attempts ?? 0) !== (offered.attempts ?? 0)) return this.claim(seen, now, leaseMs);
      if (!(await claims.win('outbox', seen._id, offered.attempts ?? 0, now, leaseMs))) return null;
      return { ...offered, state: 'sending', leaseUntil: new Date(now.getTime() + leaseMs), attempts: (offered.attempts ?? 0) + 1 };
    },
    // Written leased to this process's worker (lib/handOver.ts): worked on without a claim, given back on stop.
    ...writtenInHand(model, 'sending'),
    backlog: () => model.countDocuments({ open: true }),
    /** When each of these messages was sent (those still kept and sent), in chunks: the audit report. */
    async sentAtOf(ids: string[]): Promise<Map<string, Date>> {
      const sent = new Map<string, Date>();
      for (let i = 0; i < ids.length; i += 500) {
        const rows = await model.find({ _id: { $in: ids.slice(i, i + 500) }, sentAt: { $ne: null } }, { sentAt: 1 }).lean();
        for (const r of rows) sent.set(String(r._id), r.sentAt as Date);
      }
      return sent;
    },
    /** Records how a send ended (or moved on), releasing the lease. */
    // Both clear the sealed line: the sender writes it right after (outbox/worker.ts writeLine).
    // False when the item is gone (its person was erased meanwhile): then no line is written.
    settle: async (id: string, set: Partial<Pick<OutboxDoc, 'state' | 'graphKey' | 'sentAt' | 'error' | 'attempts'>>) =>
      (await model.updateOne({ _id: id }, { $set: { ...set, ...(set.state ? { open: OPEN.includes(set.state) } : {}), leaseUntil: null, lineEnc: null } }))
        .matchedCount > 0,
    /** Retry at `when`; `attempts` (claims so far) names the next claim (store/claimStore.ts). */
    retryAt: async (id: string, when: Date, error: { code: number; title: string }, attempts: number) =>
      (await model.updateOne({ _id: id }, { $set: { state: 'pending', open: true, leaseUntil: null, nextAttemptAt: when, error, attempts, lineEnc: null } }))
        .matchedCount > 0,
    rememberUpload: (id: string, mediaId: string) => model.updateOne({ _id: id }, { $set: { mediaId } }).then(() => undefined),
    /** A status webhook: the state only moves forward (statuses arrive out of order). */
    advance: (id: string, state: string, error: OutboxDoc['error']) =>
      model.updateOne({ _id: id }, { $set: { state, open: OPEN.includes(state), error } }).then(() => undefined),
    remove: (id: string) => model.deleteOne({ _id: id }).then(() => undefined),

    /** Documents uploaded for this person (deleted at Meta when they are erased). */
    uploadsOf: async (subscriberId: Types.ObjectId) =>
      (await model.find({ subscriberId, mediaId: { $ne: null } }, { mediaId: 1, phoneNumberId: 1 }).lean()).map((o) => ({
        mediaId: o.mediaId as string,
        phoneNumberId: o.phoneNumberId,
      })),
    removeAllOf: (subscriberId: Types.ObjectId, except: string[] = []) => model.deleteMany({ subscriberId, _id: { $nin: except } }).then(() => undefined),
    sweep: async (before: Date) => (await model.deleteMany({ state: { $in: FINISHED }, createdAt: { $lt: before } })).deletedCount,
  };
}
