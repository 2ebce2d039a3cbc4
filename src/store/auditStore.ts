import { randomUUID } from 'node:crypto';
import { Schema, type InferSchemaType, type Model } from 'mongoose';
import type { Clock } from '../lib/clock';
import { at, type Pii } from '../privacy/pii';
import { createChain, type ChainSpec, type VerifyResult } from './chain';
import type { KvStore } from './kvStore';

export const staffAuditSchema = new Schema(
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

export type AuditDoc = InferSchemaType<typeof staffAuditSchema> & { _id: string };

export const AUDIT_CHAIN: ChainSpec = { name: 'staffAudit', fields: ['staffId', 'action', 'subscriberToken', 'detail'] };

export type AuditStore = ReturnType<typeof createAuditStore>;

/** The staff audit log: who did what, when, to which subscriber token (never the number); chained. */
export function createAuditStore(model: Model<AuditDoc>, kv: KvStore, pii: Pii, clock: Clock) {
  const chain = createChain(AUDIT_CHAIN, model, kv, clock);
  return {
    chain,
    /**
     * `detail` is hashed into the chain, so it holds a fixed vocabulary only (a reason code, a role,
     * an outcome). Free text (a reveal's note, which may name the person) is sealed in `noteEnc`,
     * outside the hash, so an erasure can remove it without breaking the chain.
     */
    async append(e: { staffId: string | null; action: string; subscriberToken?: string | null; detail?: string | null; note?: string | null }): Promise<void> {
      const id = randomUUID();
      const noteEnc = e.note ? pii.encrypt(e.note, at('staffAudit', 'noteEnc', id)) : null;
      await chain.append({ staffId: e.staffId, action: e.action, subscriberToken: e.subscriberToken ?? null, detail: e.detail ?? null }, id, { noteEnc });
    },
    noteOf: (e: { _id: string; noteEnc?: string | null }) => (e.noteEnc ? pii.decrypt(e.noteEnc, at('staffAudit', 'noteEnc', e._id)) : null),
    recent: (limit: number) => model.find({}).sort({ seq: -1 }).limit(limit).lean<AuditDoc[]>(),
    /** Erasure: notes about these tokens go (the chained entries stay: they name no one). */
    dropNotesOf: (tokens: string[]) =>
      model.updateMany({ subscriberToken: { $in: tokens }, noteEnc: { $ne: null } }, { $set: { noteEnc: null } }).then(() => undefined),
    verify: (): Promise<VerifyResult> => chain.verify((e) => ({ action: e.action, staffId: e.staffId })),
    lastVerification: () => chain.lastVerification(),
  };
}
