import type { Types } from 'mongoose';
import type { Deps } from '../deps';
import { isDuplicateKey } from '../db/models';
import { at as place } from '../privacy/pii';

export type ConsentSource = 'keyword' | 'button' | 'staff' | 'api' | 'meta_preferences' | 'meta_131050';

export interface ConsentEvent {
  id: string;
  subscriberId: Types.ObjectId;
  action: 'grant' | 'withdraw' | 'resume';
  source: ConsentSource;
  /** Free text (the API caller's stated source): sealed, never stored in the clear. */
  detail?: string;
  /** When the person acted: the message's or preference's timestamp, the API's collectedAt. */
  at: Date;
}

/**
 * Records one consent event in the history. Its id derives from the request that caused it, so a
 * replayed step (a redelivery, a crash and a new claim) records nothing twice; returns false on a replay.
 */
export async function recordConsent(deps: Deps, e: ConsentEvent): Promise<boolean> {
  try {
    await deps.models.Consent.collection.insertOne({
      _id: e.id as never,
      subscriberId: e.subscriberId,
      action: e.action,
      scope: 'marketing',
      source: e.source,
      detailEnc: e.detail ? deps.pii.encrypt(e.detail, place('consents', 'detailEnc', e.id)) : null,
      at: e.at,
    });
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/**
 * Event time decides: the consent state is that of the newest event by when the person acted, not
 * by when we processed it (Meta redelivers late and out of order). An older event stays in the
 * history but never overrides a newer one. The write is conditional, so two replicas racing on
 * one person cannot leave the older state behind. Returns whether this event now sets the state.
 */
export async function applyConsent(deps: Deps, subscriberId: Types.ObjectId, state: 'opted_in' | 'opted_out', at: Date): Promise<boolean> {
  const r = await deps.models.Subscriber.updateOne(
    { _id: subscriberId, $or: [{ consentAt: null }, { consentAt: { $lte: at } }] },
    { $set: { consent: state, consentAt: at } },
  );
  return r.matchedCount > 0;
}

export async function isSuppressed(deps: Deps, token: string): Promise<boolean> {
  return Boolean(await deps.models.Suppression.exists({ _id: token }));
}

/**
 * Meta's marketing stop for a number we have no profile for: kept pseudonymously (the newest one
 * counts) and applied when a profile is created (rights/subscribers.ts).
 */
export async function rememberOptOutSignal(deps: Deps, token: string, source: 'meta_preferences' | 'meta_131050', at: Date): Promise<void> {
  await deps.models.OptOutSignal.updateOne({ _id: token }, { $max: { at }, $setOnInsert: { source } }, { upsert: true }).catch((err) => {
    if (!isDuplicateKey(err)) throw err; // two replicas upserting at once: the other one wrote it
  });
}
