import { Schema, type InferSchemaType, type Model, type Types } from 'mongoose';
import { insertOnce, isDuplicateKey } from './insertOnce';

export const staffSchema = new Schema(
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

export const staffSessionSchema = new Schema(
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

export type StaffDoc = InferSchemaType<typeof staffSchema> & { _id: Types.ObjectId };
type SessionDoc = InferSchemaType<typeof staffSessionSchema> & { _id: string };

const DAY = 86_400_000;

export type StaffStore = ReturnType<typeof createStaffStore>;

/** Staff accounts and their sessions (a session is stored by the hash of its cookie only). */
export function createStaffStore(model: Model<StaffDoc>, sessions: Model<SessionDoc>) {
  return {
    /** Creates an account; null when the email is taken. */
    async create(a: { email: string; name: string; role: string; passwordHash: string; now: Date }): Promise<StaffDoc | null> {
      try {
        return (await model.create({ email: a.email, name: a.name, role: a.role, passwordHash: a.passwordHash, createdAt: a.now })).toObject() as StaffDoc;
      } catch (err) {
        if (isDuplicateKey(err)) return null;
        throw err;
      }
    },
    update: (email: string, set: Record<string, unknown>) => model.findOneAndUpdate({ email }, { $set: set }, { returnDocument: 'after' }).lean<StaffDoc>(),
    all: () => model.find({}).sort({ email: 1 }).lean<StaffDoc[]>(),
    byId: (id: Types.ObjectId | string) => model.findById(id).lean<StaffDoc>(),
    emails: async () => new Map((await model.find({}, { email: 1 }).lean()).map((s) => [String(s._id), s.email])),

    /**
     * Counts a login attempt before the password is checked, atomically, on an account that is
     * enabled and not locked (parallel guesses cannot all read the same count). A lock that ended a
     * day ago or more is forgotten; one that has just run out leaves `lastTry` failures counted, so
     * one more try is allowed before the next lock.
     */
    async countAttempt(email: string, now: Date, lastTry: number): Promise<StaffDoc | null> {
      await model.updateOne(
        { email, lockedUntil: { $ne: null, $lte: new Date(now.getTime() - DAY) } },
        { $set: { lockedUntil: null, failedLogins: 0, locks: 0 } },
      );
      await model.updateOne({ email, lockedUntil: { $ne: null, $lte: now } }, { $set: { lockedUntil: null, failedLogins: lastTry } });
      return model
        .findOneAndUpdate({ email, disabled: { $ne: true }, lockedUntil: null }, { $inc: { failedLogins: 1 } }, { returnDocument: 'after' })
        .lean<StaffDoc>();
    },
    loggedIn: (id: Types.ObjectId, now: Date) => model.updateOne({ _id: id }, { $set: { failedLogins: 0, locks: 0, lastLoginAt: now } }).then(() => undefined),
    /** Locks an account that is not locked yet; false when another attempt locked it first. */
    lock: async (id: Types.ObjectId, until: Date) =>
      (await model.updateOne({ _id: id, lockedUntil: null }, { $set: { lockedUntil: until }, $inc: { locks: 1 } })).modifiedCount > 0,

    openSession: (s: { id: string; staffId: Types.ObjectId; csrf: string; now: Date; expiresAt: Date }) =>
      insertOnce(sessions, { _id: s.id, staffId: s.staffId, csrf: s.csrf, createdAt: s.now, expiresAt: s.expiresAt }),
    session: (id: string) => sessions.findById(id).lean<SessionDoc>(),
    closeSession: (id: string) => sessions.deleteOne({ _id: id }).then(() => undefined),
    closeSessionsOf: (staffId: Types.ObjectId) => sessions.deleteMany({ staffId }).then(() => undefined),
    sweepSessions: async (now: Date) => (await sessions.deleteMany({ expiresAt: { $lt: now } })).deletedCount,
  };
}
