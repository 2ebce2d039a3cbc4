import type { Types } from 'mongoose';
import type { Deps } from '../deps';
import { isDuplicateKey } from '../db/models';

export type ConsentSource = 'keyword' | 'button' | 'staff' | 'api' | 'meta_preferences' | 'meta_131050';

/**
 * Records one consent event. Its id derives from the request that caused it, so a replayed
 * step (a redelivery, a crash and a new claim) records nothing twice; returns false on a replay.
 */
export async function recordConsent(
  deps: Deps,
  e: { id: string; subscriberId: Types.ObjectId; action: 'grant' | 'withdraw' | 'resume'; source: ConsentSource; detail?: string; at?: Date },
): Promise<boolean> {
  try {
    await deps.models.Consent.collection.insertOne({
      _id: e.id as never,
      subscriberId: e.subscriberId,
      action: e.action,
      scope: 'marketing',
      source: e.source,
      detail: e.detail ?? null,
      at: e.at ?? deps.clock.now(),
    });
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

export async function isSuppressed(deps: Deps, token: string): Promise<boolean> {
  return Boolean(await deps.models.Suppression.exists({ _id: token }));
}
