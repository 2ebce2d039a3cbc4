import type { Deps } from '../deps';
import { applyConsent, recordConsent, type ConsentSource } from './consent';
import { closeRequest, openRequest } from './ledger';
import { outcome, text, type Outcome } from './outcome';
import type { Subscriber } from './subscribers';

/**
 * Records an opt-in with its source and the time the person acted. Only the person can lift their
 * own suppression (START in the chat, written after the erasure: rights/subscribers.ts drops what
 * they wrote before it); a third party cannot (api/consents answers 409 for suppressed numbers).
 * A START older than a STOP they sent later is recorded and changes nothing.
 */
export async function optIn(deps: Deps, s: Subscriber, r: { requestId: string; source: ConsentSource; channel: string; at: Date; detail?: string }): Promise<Outcome> {
  const consentId = `${r.requestId}:grant`;
  const replay = s.consent === 'opted_in' && (await deps.models.Consent.exists({ _id: consentId }));
  if (s.consent === 'opted_in' && !replay) {
    await applyConsent(deps, s._id, 'opted_in', r.at);
    return outcome('already_opted_in', text('optIn.already'));
  }

  await openRequest(deps, { id: r.requestId, subscriberToken: s.key, type: 'opt_in', channel: r.channel });
  await recordConsent(deps, { id: consentId, subscriberId: s._id, action: 'grant', source: r.source, detail: r.detail, at: r.at });
  const applied = replay || (await applyConsent(deps, s._id, 'opted_in', r.at));
  if (!applied) {
    await closeRequest(deps, r.requestId, s.key, 'done', 'superseded by a newer choice');
    return outcome('opt_in_superseded');
  }
  if (r.source === 'keyword' || r.source === 'button') await deps.models.Suppression.deleteOne({ _id: s.key });
  await closeRequest(deps, r.requestId, s.key, 'done', `marketing consent granted (${r.source})`);
  return outcome('opted_in', text('optIn.confirmed'));
}
