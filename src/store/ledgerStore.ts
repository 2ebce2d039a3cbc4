import { Schema, type InferSchemaType, type Model } from 'mongoose';
import type { Clock } from '../lib/clock';
import { chainHash, createChain, type ChainSpec, type VerifyResult } from './chain';
import type { KvStore } from './kvStore';

export const ledgerSchema = new Schema(
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

export type LedgerDoc = InferSchemaType<typeof ledgerSchema> & { _id: string };

/**
 * The rights ledger: pseudonymous (a keyed token, never a number, name or text) and
 * tamper-evident (store/chain.ts). A replayed step collides on (requestId, event) and appends
 * nothing.
 */
export interface LedgerEvent {
  requestId: string;
  subscriberToken: string;
  event: string;
  detail?: string | null;
}

export const LEDGER_CHAIN: ChainSpec = { name: 'ledger', fields: ['requestId', 'subscriberToken', 'event', 'detail'] };

/** The hash of a ledger entry (for independent checks, e.g. the fault suite). */
export const ledgerEntryHash = (e: {
  seq: number;
  at: Date;
  requestId: string;
  subscriberToken: string;
  event: string;
  detail?: string | null;
  prevHash: string;
}) => chainHash(LEDGER_CHAIN, e);

export type LedgerStore = ReturnType<typeof createLedgerStore>;

export function createLedgerStore(model: Model<LedgerDoc>, kv: KvStore, clock: Clock) {
  const chain = createChain(LEDGER_CHAIN, model, kv, clock);
  return {
    chain,
    append: (ev: LedgerEvent) => chain.append({ ...ev }, `${ev.requestId}:${ev.event}`),
    /** Several events, consecutive in the chain, in one write. */
    appendAll: (evs: LedgerEvent[]) => chain.appendAll(evs.map((ev) => ({ content: { ...ev }, id: `${ev.requestId}:${ev.event}` }))),
    verify: (): Promise<VerifyResult> => chain.verify((e) => ({ requestId: e.requestId, event: e.event })),
    lastVerification: () => chain.lastVerification(),
    /** A request's history, in order. */
    historyOf: (requestId: string) => model.find({ requestId }).sort({ seq: 1 }).lean<LedgerDoc[]>(),
  };
}
