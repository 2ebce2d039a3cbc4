import { Schema, type InferSchemaType, type Model } from 'mongoose';
import { at, type Pii } from '../privacy/pii';
import type { ClaimStore } from './claimStore';
import { insertOnce } from './insertOnce';
import { openFlagRules } from './openFlag';

/**
 * Privacy events for the other systems that hold a person's data (GDPR Art. 19): one document per
 * event and receiver, delivered from here in order per person and receiver, at least once. The
 * body (the receiver's pseudonym of the person, and their number where the receiver is trusted with
 * it) is kept sealed only until it is delivered; what stays is the delivery log: type, receiver,
 * times, attempts and the last status.
 */
export const eventSchema = new Schema(
  {
    _id: { type: String, required: true }, // `<event id>:<receiver id>`: a replayed step writes nothing new
    eventId: { type: String, required: true }, // the id the receiver sees (its idempotency key)
    receiver: { type: String, required: true }, // receiver id (events/receivers.ts)
    type: { type: String, required: true }, // consent.granted, erasure.completed, …
    subjectKey: { type: String, default: null }, // the person's token, for per-person order; gone once delivered
    bodyEnc: { type: String, default: null }, // the JSON posted, sealed; gone once delivered
    order: { type: Number, required: true },
    state: { type: String, required: true, default: 'pending' }, // pending | sending | delivered | failed
    open: { type: Boolean, default: true }, // pending or sending (store/openFlag.ts)
    attempts: { type: Number, default: 0 },
    nextAttemptAt: { type: Date, required: true },
    leaseUntil: { type: Date, default: null },
    lastStatus: { type: String, default: null }, // an HTTP status or an error class: never a response body
    createdAt: { type: Date, required: true },
    deliveredAt: { type: Date, default: null },
  },
  { versionKey: false, collection: 'events' },
);
eventSchema.index({ open: 1, receiver: 1, order: 1 }); // the worker's window per receiver, oldest first
eventSchema.index({ createdAt: -1 }); // the delivery log, newest first; retention

export type EventDoc = InferSchemaType<typeof eventSchema> & { _id: string };
type Head = Pick<EventDoc, '_id' | 'receiver' | 'subjectKey' | 'order' | 'state' | 'nextAttemptAt' | 'leaseUntil' | 'attempts'>;

const OPEN = ['pending', 'sending'];

export interface NewEvent {
  eventId: string;
  receiver: string;
  type: string;
  subjectKey: string;
  body: Record<string, unknown>;
  order: number;
  now: Date;
}

export type EventStore = ReturnType<typeof createEventStore>;

export function createEventStore(model: Model<EventDoc>, pii: Pii, claims: ClaimStore) {
  const flags = openFlagRules(model, OPEN);
  return {
    /** Queues one event for one receiver; false when it was queued before (a replayed step). */
    insert(e: NewEvent): Promise<boolean> {
      const id = `${e.eventId}:${e.receiver}`;
      return insertOnce(model, {
        _id: id,
        eventId: e.eventId,
        receiver: e.receiver,
        type: e.type,
        subjectKey: e.subjectKey,
        bodyEnc: pii.encrypt(JSON.stringify(e.body), at('events', 'bodyEnc', id)),
        order: e.order,
        state: 'pending',
        open: true,
        attempts: 0,
        nextAttemptAt: e.now,
        leaseUntil: null,
        lastStatus: null,
        createdAt: e.now,
        deliveredAt: null,
      });
    },
    /** The exact bytes to post (signed as they are). */
    bodyOf: (d: Pick<EventDoc, '_id' | 'bodyEnc'>) => pii.decrypt(d.bodyEnc!, at('events', 'bodyEnc', d._id)),
    /**
     * The oldest open events of each receiver: a window per receiver, so one receiver's backlog
     * (an outage of days) never hides the others' events. A receiver no longer configured is not
     * read: its events wait, sealed, until it is configured again or the sweep gives them up.
     */
    async openItems(limit: number, receivers: string[]): Promise<Head[]> {
      const windows = await Promise.all(
        receivers.map((receiver) =>
          model
            .find({ open: true, receiver }, { _id: 1, receiver: 1, subjectKey: 1, order: 1, state: 1, nextAttemptAt: 1, leaseUntil: 1, attempts: 1 })
            .sort({ order: 1 })
            .limit(limit)
            .lean<Head[]>(),
        ),
      );
      return flags.openOnly(windows.flat().sort((a, b) => a.order - b.order));
    },
    /** One replica wins an open event (store/claimStore.ts), and leases it. */
    async claim(item: Pick<Head, '_id' | 'attempts'>, now: Date, leaseMs: number): Promise<EventDoc | null> {
      if (!(await claims.win('events', item._id, item.attempts ?? 0, now, leaseMs))) return null;
      const update = { $set: { state: 'sending', leaseUntil: new Date(now.getTime() + leaseMs), attempts: (item.attempts ?? 0) + 1 } };
      // Only while still open: a claim that waited behind others must not reopen a delivered event.
      return model.findOneAndUpdate({ _id: item._id, open: true }, update, { returnDocument: 'after' }).lean<EventDoc>();
    },
    /** Delivered: the body and the person's token go; the log line stays. */
    delivered: (id: string, status: string, now: Date) =>
      model
        .updateOne(
          { _id: id },
          { $set: { state: 'delivered', open: false, leaseUntil: null, lastStatus: status, deliveredAt: now }, $unset: { bodyEnc: 1, subjectKey: 1 } },
        )
        .then(() => undefined),
    retryAt: (id: string, when: Date, status: string) =>
      model.updateOne({ _id: id }, { $set: { state: 'pending', open: true, leaseUntil: null, nextAttemptAt: when, lastStatus: status } }).then(() => undefined),
    /** Given up (too old): nothing of the person is kept. */
    failed: (id: string, status: string) =>
      model
        .updateOne({ _id: id }, { $set: { state: 'failed', open: false, leaseUntil: null, lastStatus: status }, $unset: { bodyEnc: 1, subjectKey: 1 } })
        .then(() => undefined),
    backlog: () => model.countDocuments({ open: true }),
    /** The delivery log, newest first (no body, no person). */
    recent: (limit: number) =>
      model
        .find({}, { eventId: 1, receiver: 1, type: 1, state: 1, attempts: 1, lastStatus: 1, createdAt: 1, deliveredAt: 1, nextAttemptAt: 1 })
        .sort({ createdAt: -1 })
        .limit(limit)
        .lean(),
    isEmpty: flags.isEmpty,
    markOpen: flags.markOpen,
    /**
     * Events still open after `giveUpBefore` (a receiver removed from the configuration, or one
     * that never came back) are given up, their body dropped; finished log lines older than
     * `before` go.
     */
    sweep: async (before: Date, giveUpBefore: Date) => {
      await model.updateMany(
        { open: true, createdAt: { $lt: giveUpBefore } },
        { $set: { state: 'failed', open: false, leaseUntil: null, lastStatus: 'given_up' }, $unset: { bodyEnc: 1, subjectKey: 1 } },
      );
      return (await model.deleteMany({ open: false, createdAt: { $lt: before } })).deletedCount;
    },
  };
}
