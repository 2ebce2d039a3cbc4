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
    // The latest message the bot could not act on (a question, a complaint): a member of staff should
    // read it. Cleared by a staff reply or a dismissal of what staff saw (staff/conversations.ts).
    needsHumanAt: { type: Date, default: null },
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
  // A conversation turn's refresh of the profile (recordInbound), not written yet: it rides along
  // with the turn's next write to the same profile (its consent change, or the reservation of its
  // replies' places), so a turn costs one write instead of two. One turn per person at a time
  // (inbox/worker.ts), so an entry belongs to the turn in hand; `endTurn` writes what is left,
  // `discard` drops it when the turn failed (its retry reads afresh), and any read or other write of
  // the profile by id writes it first.
  const staged = new Map<string, Staged>();
  // The first place a turn reserved for its replies (expectAnswer), until the turn settles it.
  const reserved = new Map<string, number>();
  const take = (id: Types.ObjectId): Staged | undefined => {
    const s = staged.get(String(id));
    staged.delete(String(id));
    return s;
  };
  /** An unconditional write by `_id`, with the staged refresh folded in (the write's own fields win). */
  const write = (id: Types.ObjectId, update: Staged) => model.updateOne({ _id: id }, withStaged(take(id), update)).then(() => undefined);
  const flush = async (id: Types.ObjectId) => {
    const s = take(id);
    if (s) await model.updateOne({ _id: id }, s);
  };
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
    async byId(id: Types.ObjectId | string): Promise<Subscriber | null> {
      if (staged.has(String(id))) await flush(new Types.ObjectId(String(id)));
      return lean(model.findById(id).lean());
    },
    /** The end of a turn: writes its staged refresh, if no write of the turn took it along. */
    async endTurn(id: Types.ObjectId): Promise<void> {
      reserved.delete(String(id));
      await flush(id);
    },
    /** Forgets the staged refresh of a turn that failed: its retry reads and refreshes again. */
    discard: (id: Types.ObjectId) => {
      take(id);
      reserved.delete(String(id));
    },
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
        needsHumanAt: null,
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
     *
     * Staged, not written (see `staged`), and returned as it will be, unless the person's key
     * changes: then it is written at once, as every lookup by token must find them.
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
      const refresh = withStaged(take(s._id), { $set: set, $max: window });
      if (seen.newKey || seen.waId) await model.updateOne({ _id: s._id }, refresh);
      else staged.set(String(s._id), refresh);
      const later = (a: Date | null | undefined, b: Date) => (a && a > b ? a : b);
      return {
        ...s,
        ...set,
        lastInboundAt: later(s.lastInboundAt, window.lastInboundAt),
        windowUntil: later(s.windowUntil, window.windowUntil),
      } as Subscriber;
    },

    /** The person's new number (Meta's user_changed_number); the old token is remembered for erasure. */
    async moveNumber(id: Types.ObjectId, oldKey: string, newKey: string, newWaId: string, now: Date): Promise<void> {
      await model.updateOne(
        { _id: id },
        { $set: { key: newKey, waIdEnc: seal(id, 'waIdEnc', newWaId), lastActivityAt: now }, $addToSet: { previousKeys: oldKey } },
      );
    },

    /** The language to answer in; during a turn it goes with the turn's next write. */
    setLocale: async (id: Types.ObjectId, locale: string) => {
      const turn = staged.get(String(id));
      if (turn) staged.set(String(id), withStaged(turn, { $set: { locale } }));
      else await write(id, { $set: { locale } });
    },
    setPaused: (id: Types.ObjectId, paused: boolean) => write(id, { $set: { pausedByStaff: paused } }),
    /** Someone answered the person (the bot, or staff: then it is also activity on the conversation). */
    /**
     * A staff reply: answered, and no longer waiting for a human for what came before `seen` (when
     * the reply began). A message read after stays marked; this process's staged turn is written first.
     */
    async markAnswered(id: Types.ObjectId, seen: Date): Promise<void> {
      await flush(id);
      await model.updateOne({ _id: id }, { $set: { unanswered: false, lastActivityAt: seen } });
      await model.updateOne({ _id: id, needsHumanAt: { $lte: seen } }, { $set: { needsHumanAt: null } });
    },
    /**
     * The person wrote what only a human can answer: staged, so it rides with the turn's next write
     * (a `$max`, so a late redelivery never moves it back, and a mark a dismissal cleared meanwhile is set again).
     */
    flagForHuman(id: Types.ObjectId, at: Date): void {
      staged.set(String(id), withStaged(staged.get(String(id)), { $max: { needsHumanAt: at } }));
    },
    async dismissHuman(id: Types.ObjectId, seen?: Date): Promise<boolean> {
      await flush(id);
      const r = await model.updateOne(
        { _id: id, ...(seen ? { $or: [{ needsHumanAt: null }, { needsHumanAt: { $lte: seen } }] } : {}) },
        { $set: { needsHumanAt: null } },
      );
      return r.matchedCount === 1;
    },
    markHinted: (id: Types.ObjectId, requestId: string, now: Date) => write(id, { $set: { hintSentAt: now, hintRequestId: requestId } }),

    /** The pending question: one at a time; a new one replaces the old. */
    ask: (id: Types.ObjectId, pending: Pending) => write(id, { $set: { pending } }),
    /** Clears the pending question (only one of `kind` when given: an opt-out does not clear a pending erasure). */
    /** Clears a question of a request that closed without an answer, if it is still the one waiting (a newer question stays). */
    clearQuestionOf: (token: string, requestId: string) =>
      model.updateOne({ $or: [{ key: token }, { bsuidKey: token }], 'pending.requestId': requestId }, { $set: { pending: null } }).then(() => undefined),
    clearQuestion: (id: Types.ObjectId, kind?: Pending['kind']) =>
      kind ? model.updateOne({ _id: id, 'pending.kind': kind }, { $set: { pending: null } }).then(() => undefined) : write(id, { $set: { pending: null } }),

    /**
     * Event time decides: the state becomes that of the newest event by when the person acted (Meta
     * redelivers late and out of order). The write is conditional, so two replicas racing on one
     * person cannot leave the older state behind. Returns whether this event now sets the state.
     */
    async applyConsent(id: Types.ObjectId, state: 'opted_in' | 'opted_out', when: Date): Promise<boolean> {
      const refresh = take(id);
      const r = await model.updateOne(
        { _id: id, $or: [{ consentAt: null }, { consentAt: { $lte: when } }] },
        withStaged(refresh, { $set: { consent: state, consentAt: when } }),
      );
      // Not applied: the refresh still waits, under what was staged while this write was out.
      if (r.matchedCount === 0 && refresh) staged.set(String(id), withStaged(refresh, staged.get(String(id)) ?? {}));
      return r.matchedCount > 0;
    },

    /**
     * A turn that will answer (known once the message is understood): places for up to
     * REPLY_BLOCK replies are reserved and the person marked answered, staged with the refresh, so
     * the turn's next write (its consent change) carries them and the replies need no write of
     * their own. `answerTurn` settles it once the replies are known. Positions may be left unused:
     * only their order matters.
     */
    expectAnswer(s: Pick<Subscriber, '_id' | 'outOrder'>, floor: number): void {
      const first = Math.max(floor, (s.outOrder ?? 0) + 1);
      staged.set(String(s._id), withStaged(staged.get(String(s._id)), { $max: { outOrder: first + REPLY_BLOCK - 1 }, $set: { unanswered: false } }));
      reserved.set(String(s._id), first);
    },

    /**
     * Places for a turn's `count` replies in the person's queue (after everything queued so far,
     * even when clocks tie or differ between replicas), and whether the person was answered
     * (replies that cannot be sent still answer: staff see them as not confirmed). One write at
     * most, none when `expectAnswer` reserved them and they fit.
     */
    async answerTurn(s: Pick<Subscriber, '_id' | 'outOrder'>, floor: number, count: number, answered: boolean): Promise<number> {
      const first = reserved.get(String(s._id));
      reserved.delete(String(s._id));
      if (first === undefined) {
        if (!answered) return 0;
        const at = Math.max(floor, (s.outOrder ?? 0) + 1);
        await write(s._id, { $max: { outOrder: at + count - 1 }, $set: { unanswered: false } });
        return at;
      }
      if (!answered)
        await write(s._id, { $set: { unanswered: true } }); // expected an answer, none came (rare)
      else if (count > REPLY_BLOCK) await write(s._id, { $max: { outOrder: first + count - 1 } });
      // Still staged (no consent change took it along): written before the replies are queued, so
      // a message queued meanwhile on another replica (nextOrder) is placed after them.
      else await flush(s._id);
      return first;
    },

    /**
     * Positions for the next `count` outbound messages to this person: after everything queued so
     * far, even when clocks tie or differ between replicas. Reads and writes by `_id` only.
     */
    async nextOrder(id: Types.ObjectId, floor: number, count: number): Promise<number> {
      await flush(id); // a turn's reservation first
      const s = await model.findById(id, { outOrder: 1 }).lean();
      const first = Math.max(floor, (s?.outOrder ?? 0) + 1);
      if (s) await model.updateOne({ _id: id }, { $max: { outOrder: first + count - 1 } });
      return first;
    },

    /** The console's list: most recent activity first, optionally only those awaiting an answer. */
    recent: async (o: { limit: number; before?: Date; unanswered?: boolean; needsHuman?: boolean; consent?: ConsentState; keys?: string[] }) =>
      (await model
        .find({
          ...(o.before ? { lastActivityAt: { $lt: o.before } } : {}),
          ...(o.unanswered ? { unanswered: true } : {}),
          ...(o.needsHuman ? { needsHumanAt: { $ne: null } } : {}),
          ...(o.consent ? { consent: o.consent } : {}),
          ...(o.keys ? { key: { $in: o.keys } } : {}),
        })
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

    remove: async (id: Types.ObjectId) => {
      take(id);
      await model.deleteOne({ _id: id });
    },
  };
  return store;
}

/** Reply places a turn reserves before it knows its replies (three at most today: MY DATA). */
const REPLY_BLOCK = 8;

type Staged = { $set?: Record<string, unknown>; $max?: Record<string, unknown> };

/** `update` with `staged` folded in under it: the update's own fields win; `$max` keeps the larger. */
function withStaged(staged: Staged | undefined, update: Staged): Staged {
  if (!staged) return update;
  const max: Record<string, unknown> = { ...staged.$max };
  for (const [k, v] of Object.entries(update.$max ?? {})) max[k] = k in max && (max[k] as number | Date) > (v as number | Date) ? max[k] : v;
  const set = { ...staged.$set, ...update.$set };
  // One path cannot be in both: the update's own $set wins; a $max over a staged $set keeps the larger.
  for (const k of Object.keys(update.$set ?? {})) delete max[k];
  for (const k of Object.keys(max)) {
    if (k in set) {
      set[k] = (set[k] as number | Date) > (max[k] as number | Date) ? set[k] : max[k];
      delete max[k];
    }
  }
  return { ...(Object.keys(set).length ? { $set: set } : {}), ...(Object.keys(max).length ? { $max: max } : {}) };
}
