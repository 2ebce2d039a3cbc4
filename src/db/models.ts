import { Schema, type Connection, type Model, type InferSchemaType } from 'mongoose';

/**
 * Collections (README, Data protection and Architecture). Portable between MongoDB 7/8 and FerretDB v1.24.2: no TTL or
 * partial indexes, no `select: false` (FerretDB rejects findAndModify projections), and unique
 * `_id` inserts for idempotency. Personal values are stored sealed (`*Enc`, privacy/pii.ts) and
 * found through keyed blind indexes (`key`).
 */

const inboxSchema = new Schema(
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

const subscriberSchema = new Schema(
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

const consentSchema = new Schema(
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

const messageSchema = new Schema(
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
  },
  { versionKey: false, collection: 'messages' },
);
messageSchema.index({ subscriberId: 1, at: 1 }); // a conversation, an export, an erasure
messageSchema.index({ at: 1 }); // live feed, retention sweeper

const outboxSchema = new Schema(
  {
    _id: { type: String, required: true }, // idempotency key: inbox id + step, or API request id
    subscriberId: { type: Schema.Types.ObjectId, required: true },
    toEnc: { type: String, required: true },
    bodyEnc: { type: String, required: true }, // Graph API message body without `to`, sealed
    category: { type: String, required: true }, // rights | service | marketing
    kind: { type: String, required: true },
    state: { type: String, required: true, default: 'pending' }, // pending | sending | sent | delivered | read | failed
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
  },
  { versionKey: false, collection: 'outbox' },
);
outboxSchema.index({ state: 1, nextAttemptAt: 1 }); // claim due work
outboxSchema.index({ subscriberId: 1, order: 1 }); // per-recipient order
outboxSchema.index({ graphKey: 1 }); // status webhooks without our callback id

const requestSchema = new Schema(
  {
    _id: { type: String, required: true }, // request id (= the inbox item that asked, or a generated id)
    subscriberToken: { type: String, required: true }, // pseudonymous: blind index of the number
    type: { type: String, required: true }, // opt_out | opt_in | access | erasure
    channel: { type: String, required: true }, // chat | staff | api | meta
    receivedAt: { type: Date, required: true },
    dueAt: { type: Date, required: true },
    regime: { type: String, required: true },
    state: { type: String, required: true }, // open | done | cancelled | expired
    doneAt: { type: Date, default: null },
    outcome: { type: String, default: null },
  },
  { versionKey: false, collection: 'requests' },
);
requestSchema.index({ subscriberToken: 1, receivedAt: 1 });
requestSchema.index({ state: 1, dueAt: 1 });

const ledgerSchema = new Schema(
  {
    _id: { type: String, required: true }, // `${requestId}:${event}`: a replayed step appends nothing
    seq: { type: Number, required: true },
    at: { type: Date, required: true },
    requestId: { type: String, required: true },
    subscriberToken: { type: String, required: true },
    event: { type: String, required: true }, // e.g. erasure.requested, erasure.done
    detail: { type: String, default: null },
    prevHash: { type: String, required: true },
    hash: { type: String, required: true },
  },
  { versionKey: false, collection: 'ledger' },
);
ledgerSchema.index({ seq: 1 }, { unique: true }); // the chain: one entry per position
ledgerSchema.index({ requestId: 1 }); // a request's history
ledgerSchema.index({ subscriberToken: 1, at: 1 });

const suppressionSchema = new Schema(
  {
    _id: { type: String, required: true }, // keyed HMAC of the number
    reason: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false, collection: 'suppressions' },
);

/**
 * Meta's own marketing stop (`user_preferences` stop, or a 131050 failure) for a number we hold no
 * profile for: remembered pseudonymously so that a consent older than it cannot make the number
 * sendable, and applied to the profile when one is created.
 */
const optOutSignalSchema = new Schema(
  {
    _id: { type: String, required: true }, // keyed HMAC of the number, like a suppression
    source: { type: String, required: true }, // meta_preferences | meta_131050
    at: { type: Date, required: true }, // when the person acted
  },
  { versionKey: false, collection: 'optOutSignals' },
);

/** Documents uploaded to Meta (MY DATA) that must be deleted there once delivered or failed. */
const mediaDeletionSchema = new Schema(
  {
    _id: { type: String, required: true }, // Meta's media id (a number of Meta's, not the person's)
    phoneNumberId: { type: String, required: true },
    dueAt: { type: Date, required: true },
    attempts: { type: Number, default: 0 },
    leaseUntil: { type: Date, default: null },
  },
  { versionKey: false, collection: 'mediaDeletions' },
);
mediaDeletionSchema.index({ dueAt: 1 });

const erasureJobSchema = new Schema(
  {
    _id: { type: String, required: true }, // the erasure request id
    subscriberId: { type: Schema.Types.ObjectId, required: true },
    subscriberToken: { type: String, required: true },
    toEnc: { type: String, required: true }, // to send the final confirmation after the profile is gone
    phoneNumberId: { type: String, required: true }, // the business number to confirm from
    locale: { type: String, required: true },
    state: { type: String, required: true }, // running | done
    leaseUntil: { type: Date, default: null },
    startedAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'erasureJobs' },
);
erasureJobSchema.index({ state: 1, leaseUntil: 1 });

const exportSchema = new Schema(
  {
    _id: { type: String, required: true },
    subscriberId: { type: Schema.Types.ObjectId, required: true },
    contentEnc: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'exports' },
);
exportSchema.index({ subscriberId: 1 });
exportSchema.index({ expiresAt: 1 });

const staffSchema = new Schema(
  {
    email: { type: String, required: true }, // lowercased
    name: { type: String, required: true },
    role: { type: String, required: true }, // viewer | agent | admin
    passwordHash: { type: String, required: true }, // scrypt (staff/password.ts); never sent to the console
    failedLogins: { type: Number, default: 0 }, // attempts since the last success, counted before the password is checked
    lockedUntil: { type: Date, default: null },
    locks: { type: Number, default: 0 }, // locks since the last success: each one lasts twice as long
    disabled: { type: Boolean, default: false },
    createdAt: { type: Date, required: true },
    lastLoginAt: { type: Date, default: null },
  },
  { versionKey: false, collection: 'staff' },
);
staffSchema.index({ email: 1 }, { unique: true }); // login

const staffSessionSchema = new Schema(
  {
    _id: { type: String, required: true }, // SHA-256 of the cookie value: a database dump holds no usable session
    staffId: { type: Schema.Types.ObjectId, required: true },
    csrf: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'staffSessions' },
);
staffSessionSchema.index({ staffId: 1 });
staffSessionSchema.index({ expiresAt: 1 }); // retention sweeper

const staffAuditSchema = new Schema(
  {
    _id: { type: String, required: true },
    seq: { type: Number, required: true },
    at: { type: Date, required: true },
    staffId: { type: String, default: null },
    action: { type: String, required: true }, // login, login_failed, reveal, reply, pause, resume, opt_out, export, staff_*
    subscriberToken: { type: String, default: null }, // never the number itself
    detail: { type: String, default: null }, // a fixed vocabulary (a reveal's reason code, a role), never free text
    noteEnc: { type: String, default: null }, // free text (a reveal's note), sealed, outside the hash: erasable
    prevHash: { type: String, required: true },
    hash: { type: String, required: true },
  },
  { versionKey: false, collection: 'staffAudit' },
);
staffAuditSchema.index({ seq: 1 }, { unique: true }); // the chain
staffAuditSchema.index({ staffId: 1, at: -1 });
staffAuditSchema.index({ subscriberToken: 1, at: -1 });

const kvSchema = new Schema(
  { _id: { type: String, required: true }, value: Schema.Types.Mixed, at: Date },
  { versionKey: false, collection: 'kv' },
);

export type InboxDoc = InferSchemaType<typeof inboxSchema>;
export type SubscriberDoc = InferSchemaType<typeof subscriberSchema> & { _id: import('mongoose').Types.ObjectId };
export type OutboxDoc = InferSchemaType<typeof outboxSchema>;
export type MessageDoc = InferSchemaType<typeof messageSchema>;
export type RequestDoc = InferSchemaType<typeof requestSchema>;
export type LedgerDoc = InferSchemaType<typeof ledgerSchema>;

export function createModels(conn: Connection) {
  return {
    Inbox: conn.model('Inbox', inboxSchema),
    Subscriber: conn.model('Subscriber', subscriberSchema),
    Consent: conn.model('Consent', consentSchema),
    Message: conn.model('Message', messageSchema),
    Outbox: conn.model('Outbox', outboxSchema),
    Request: conn.model('Request', requestSchema),
    Ledger: conn.model('Ledger', ledgerSchema),
    Suppression: conn.model('Suppression', suppressionSchema),
    OptOutSignal: conn.model('OptOutSignal', optOutSignalSchema),
    MediaDeletion: conn.model('MediaDeletion', mediaDeletionSchema),
    ErasureJob: conn.model('ErasureJob', erasureJobSchema),
    Export: conn.model('Export', exportSchema),
    Kv: conn.model('Kv', kvSchema),
    Staff: conn.model('Staff', staffSchema),
    StaffSession: conn.model('StaffSession', staffSessionSchema),
    StaffAudit: conn.model('StaffAudit', staffAuditSchema),
  };
}

export type Models = ReturnType<typeof createModels>;

/** Creates collections and indexes explicitly (autoIndex is off so production start-up is predictable). */
export async function ensureIndexes(models: Models): Promise<void> {
  for (const model of Object.values(models) as unknown as Model<unknown>[]) {
    await model.createCollection().catch((err: { code?: number }) => {
      if (err.code !== 48) throw err; // NamespaceExists
    });
    await model.createIndexes();
  }
}

/** Duplicate key: 11000 on MongoDB and on FerretDB inserts; FerretDB reports 1 for upserts (FerretDB v1 answers upsert conflicts with code 1). */
export function isDuplicateKey(err: unknown): boolean {
  const code = (err as { code?: number })?.code;
  return code === 11000 || (code === 1 && /duplicate|UNIQUE/i.test(String((err as Error).message)));
}
