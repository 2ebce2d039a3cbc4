import { Schema, Types, type InferSchemaType, type Model } from 'mongoose';
import { at, type Pii } from '../privacy/pii';
import { insertOnce } from './insertOnce';

/**
 * The subscribers collection: one profile per person, found by the keyed token of their number
 * (`key`) or of their business-scoped user id (`bsuidKey`); the number, the BSUID and the profile
 * name are stored sealed at their place. This module owns every read and write of it, including
 * the pending question, the 24-hour window and the consent state.
 */
export const subscriberSchema = new Schema(
  {
    key: { type: String, required: true }, // blind index of the wa_id (digits of the number)
    bsuidKey: { type: String, default: null }, // blind index of the business-scoped user id, when Meta sends one
    waIdEnc: { type: String, default: null },
    bsuidEnc: { type: String, default: null },
    nameEnc: { type: String, default: null },
    locale: { type: String, default: null },
    consent: { type: String, default: 'none' }, // none | opted_in | opted_out
    consentAt: { type: Date, default: null },
    windowUntil: { type: Date, default: null }, // 24 h customer-service window
    lastInboundAt: { type: Date, default: null },
    lastActivityAt: { type: Date, required: true },
    hintSentAt: { type: Date, default: null },
    hintRequestId: { type: String, default: null },
    businessNumberId: { type: String, default: null }, // the business number (phone_number_id) the person last wrote to
    pausedByStaff: { type: Boolean, default: false },
    pending: {
      type: new Schema(
        // questionId: the nonce in the ids of the buttons we offered; only those answer the question
        { kind: String, requestId: String, expiresAt: Date, questionId: String },
        { _id: false },
      ),
      default: null,
    },
    unanswered: { type: Boolean, default: false },
    outOrder: { type: Number, default: 0 }, // position of the last outbound message queued (outbox/enqueue.ts)
    previousKeys: { type: [String], default: [] }, // tokens of numbers the person had before (user_changed_number)
    origin: { type: String, default: 'whatsapp' }, // how the profile began: whatsapp | sandbox (the simulator) | api
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'subscribers' },
);
subscriberSchema.index({ key: 1 }, { unique: true }); // every lookup by number
subscriberSchema.index({ bsuidKey: 1 }); // username users without a wa_id
subscriberSchema.index({ lastActivityAt: -1 }); // console list, retention sweeper

export type SubscriberDoc = InferSchemaType<typeof subscriberSchema>;
export type Subscriber = SubscriberDoc & { _id: Types.ObjectId };
export type SubscriberId = Types.ObjectId;
export type ConsentState = 'none' | 'opted_in' | 'opted_out';
export type Origin = 'whatsapp' | 'sandbox' | 'api';

/** A data subject as WhatsApp identifies them: the number (wa_id) and/or the business-scoped user id. */
export interface Identity {
  waId?: string;
  bsuid?: string;
}

/** Where an outbound message goes: a number for `to`, or a BSUID for `recipient`. */
export type Recipient = { phone: string } | { bsuid: string };

/** The question the bot is waiting on; only the buttons carrying `questionId` answer it. */
export interface Pending {
  kind: 'erasure' | 'opt_out_question';
  requestId: string;
  questionId: string;
  expiresAt: Date;
}

/**
 * Meta allows free-form replies for 24 hours after the person's last message
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#customer-service-windows);
 * after that only a template may go.
 */
export const CUSTOMER_SERVICE_WINDOW_MS = 24 * 3600_000;

export const windowOpen = (s: Pick<Subscriber, 'windowUntil'>, now: Date): boolean => Boolean(s.windowUntil && s.windowUntil > now);

type Sealed = 'waIdEnc' | 'bsuidEnc' | 'nameEnc';

export type SubscriberStore = ReturnType<typeof createSubscriberStore>;

export function createSubscriberStore(model: Model<SubscriberDoc>, pii: Pii) {
  const seal = (id: Types.ObjectId, field: Sealed, value: string) => pii.encrypt(value, at('subscribers', field, id));
  const lean = async (q: Promise<unknown>) => ((await q) as Subscriber | null) ?? null;
  const store = {
    /** The pseudonymous token of a person: the blind index of their number (or BSUID when no number). */
    tokenOf(id: Identity): string {
      return pii.blindIndex(id.waId ? `wa:${id.waId.replace(/\D/g, '')}` : `bsuid:${id.bsuid}`);
    },
    /** A sealed field, opened (null when absent). */
    open(s: Pick<Subscriber, '_id' | Sealed>, field: Sealed): string | null {
      const v = s[field];
      return v ? pii.decrypt(v, at('subscribers', field, s._id)) : null;
    },
    /** Recipient of outbound messages: the number, or the BSUID of a username user. */
    recipientOf(s: Subscriber): Recipient {
      const waId = store.open(s, 'waIdEnc');
      return waId ? { phone: `+${waId}` } : { bsuid: store.open(s, 'bsuidEnc') ?? '' };
    },
    byId: (id: Types.ObjectId | string) => lean(model.findById(id).lean()),
    /** By the token of a number or of a BSUID. */
    byToken: (token: string) => lean(model.findOne({ $or: [{ key: token }, { bsuidKey: token }] }).lean()),
    async find(id: Identity): Promise<Subscriber | null> {
      if (id.waId) {
        const s = await lean(model.findOne({ key: store.tokenOf({ waId: id.waId }) }).lean());
        if (s) return s;
      }
      return id.bsuid ? lean(model.findOne({ bsuidKey: store.tokenOf({ bsuid: id.bsuid }) }).lean()) : null;
    },
    keyTaken: async (key: string) => Boolean(await model.exists({ key })),
    consentOf: async (key: string) => ((await model.findOne({ key }, { consent: 1 }).lean()) as { consent: ConsentState } | null)?.consent ?? null,

    /** Inserts a new profile and returns it as stored; null when another replica created it first. */
    async create(
      id: Identity,
      f: {
        _id: Types.ObjectId;
        key: string;
        origin: Origin;
        now: Date;
        consent?: { state: ConsentState; at: Date } | null;
        name?: string;
        businessNumberId?: string;
        window?: { lastInboundAt: Date; windowUntil: Date };
      },
    ): Promise<Subscriber | null> {
      const doc = {
        _id: f._id as never,
        key: f.key,
        bsuidKey: id.bsuid ? store.tokenOf({ bsuid: id.bsuid }) : null,
        waIdEnc: id.waId ? seal(f._id, 'waIdEnc', id.waId) : null,
        bsuidEnc: id.bsuid ? seal(f._id, 'bsuidEnc', id.bsuid) : null,
        nameEnc: f.name ? seal(f._id, 'nameEnc', f.name) : null,
        locale: null,
        consent: f.consent?.state ?? 'none',
        consentAt: f.consent?.at ?? null,
        windowUntil: f.window?.windowUntil ?? null,
        lastInboundAt: f.window?.lastInboundAt ?? null,
        lastActivityAt: f.now,
        hintSentAt: null,
        hintRequestId: null,
        businessNumberId: f.businessNumberId ?? null,
        pausedByStaff: false,
        pending: null,
        unanswered: f.window ? true : false,
        outOrder: 0,
        previousKeys: [],
        origin: f.origin,
        createdAt: f.now,
      };
      return (await insertOnce(model, doc)) ? (doc as unknown as Subscriber) : null;
    },

    /**
     * A message from the person: refreshes the profile name, the BSUID, the number (when first
     * known), the business number written to and the 24-hour window. The window only moves forward
     * (a late redelivery never shortens it); the business number changes only for a newer message.
     */
    async recordInbound(
      s: Subscriber,
      seen: { at: Date; now: Date; name?: string; bsuid?: string; waId?: string; businessNumberId?: string; newKey?: string },
    ): Promise<Subscriber> {
      const set: Record<string, unknown> = { lastActivityAt: seen.now, unanswered: true };
      if (seen.businessNumberId && (!s.lastInboundAt || s.lastInboundAt <= seen.at)) set.businessNumberId = seen.businessNumberId;
      if (seen.name) set.nameEnc = seal(s._id, 'nameEnc', seen.name);
      if (seen.bsuid) {
        set.bsuidKey = store.tokenOf({ bsuid: seen.bsuid });
        set.bsuidEnc = seal(s._id, 'bsuidEnc', seen.bsuid);
      }
      if (seen.waId) set.waIdEnc = seal(s._id, 'waIdEnc', seen.waId);
      if (seen.newKey) set.key = seen.newKey;
      const window = { lastInboundAt: seen.at, windowUntil: new Date(seen.at.getTime() + CUSTOMER_SERVICE_WINDOW_MS) };
      return (await model.findOneAndUpdate({ _id: s._id }, { $set: set, $max: window }, { returnDocument: 'after' }).lean()) as Subscriber;
    },

    /** The person's new number (Meta's user_changed_number); the old token is remembered for erasure. */
    async moveNumber(id: Types.ObjectId, oldKey: string, newKey: string, newWaId: string, now: Date): Promise<void> {
      await model.updateOne(
        { _id: id },
        { $set: { key: newKey, waIdEnc: seal(id, 'waIdEnc', newWaId), lastActivityAt: now }, $addToSet: { previousKeys: oldKey } },
      );
    },

    setLocale: (id: Types.ObjectId, locale: string) => model.updateOne({ _id: id }, { $set: { locale } }).then(() => undefined),
    setPaused: (id: Types.ObjectId, paused: boolean) => model.updateOne({ _id: id }, { $set: { pausedByStaff: paused } }).then(() => undefined),
    /** Someone answered the person (the bot, or staff: then it is also activity on the conversation). */
    markAnswered: (id: Types.ObjectId, activityAt?: Date) =>
      model.updateOne({ _id: id }, { $set: { unanswered: false, ...(activityAt ? { lastActivityAt: activityAt } : {}) } }).then(() => undefined),
    markHinted: (id: Types.ObjectId, requestId: string, now: Date) =>
      model.updateOne({ _id: id }, { $set: { hintSentAt: now, hintRequestId: requestId } }).then(() => undefined),

    /** The pending question: one at a time; a new one replaces the old. */
    ask: (id: Types.ObjectId, pending: Pending) => model.updateOne({ _id: id }, { $set: { pending } }).then(() => undefined),
    /** Clears the pending question (only one of `kind` when given: an opt-out does not clear a pending erasure). */
    clearQuestion: (id: Types.ObjectId, kind?: Pending['kind']) =>
      model.updateOne(kind ? { _id: id, 'pending.kind': kind } : { _id: id }, { $set: { pending: null } }).then(() => undefined),

    /**
     * Event time decides: the state becomes that of the newest event by when the person acted (Meta
     * redelivers late and out of order). The write is conditional, so two replicas racing on one
     * person cannot leave the older state behind. Returns whether this event now sets the state.
     */
    async applyConsent(id: Types.ObjectId, state: 'opted_in' | 'opted_out', when: Date): Promise<boolean> {
      const r = await model.updateOne({ _id: id, $or: [{ consentAt: null }, { consentAt: { $lte: when } }] }, { $set: { consent: state, consentAt: when } });
      return r.matchedCount > 0;
    },

    /**
     * Positions for the next `count` outbound messages to this person: after everything queued so
     * far, even when clocks tie or differ between replicas. Reads and writes by `_id` only.
     */
    /**
     * The same for a profile just read (a conversation turn holds it): one write, which also marks
     * the person as answered.
     */
    async reserveOrderAnswering(s: Pick<Subscriber, '_id' | 'outOrder'>, floor: number, count: number): Promise<number> {
      const first = Math.max(floor, (s.outOrder ?? 0) + 1);
      await model.updateOne({ _id: s._id }, { $max: { outOrder: first + count - 1 }, $set: { unanswered: false } });
      return first;
    },
    async nextOrder(id: Types.ObjectId, floor: number, count: number): Promise<number> {
      const s = await model.findById(id, { outOrder: 1 }).lean();
      const first = Math.max(floor, (s?.outOrder ?? 0) + 1);
      if (s) await model.updateOne({ _id: id }, { $max: { outOrder: first + count - 1 } });
      return first;
    },

    /** The console's list: most recent activity first, optionally only those awaiting an answer. */
    recent: async (o: { limit: number; before?: Date; unanswered?: boolean }) =>
      (await model
        .find({ ...(o.before ? { lastActivityAt: { $lt: o.before } } : {}), ...(o.unanswered ? { unanswered: true } : {}) })
        .sort({ lastActivityAt: -1 })
        .limit(o.limit)
        .lean()) as Subscriber[],

    /** Conversation ids (the profile's `_id`) of these tokens; erased people are absent. */
    idsOf: async (keys: string[]) => new Map((await model.find({ key: { $in: keys } }, { key: 1 }).lean()).map((s) => [s.key, String(s._id)])),
    /** Profiles idle since before `cutoff` (retention). */
    idleIds: async (cutoff: Date, limit: number, after: Types.ObjectId | null) =>
      (
        await model
          .find({ lastActivityAt: { $lt: cutoff }, ...(after ? { _id: { $gt: after } } : {}) }, { _id: 1 })
          .sort({ _id: 1 })
          .limit(limit)
          .lean()
      ).map((s) => s._id as Types.ObjectId),

    remove: (id: Types.ObjectId) => model.deleteOne({ _id: id }).then(() => undefined),
  };
  return store;
}
