import type { Deps } from '../deps';
import { recordConsent, type ConsentSource } from './consent';
import { closeRequest, openRequest } from './ledger';
import { outcome, text, type Outcome } from './outcome';
import type { Subscriber } from './subscribers';

/**
 * Records an opt-in with its source and time. Only the person can lift their own suppression
 * (START in the chat); a third party cannot (api/consents answers 409 for suppressed numbers).
 */
export async function optIn(deps: Deps, s: Subscriber, r: { requestId: string; source: ConsentSource; channel: string; detail?: string; at?: Date }): Promise<Outcome> {
  const consentId = `${r.requestId}:grant`;
  const replay = s.consent === 'opted_in' && (await deps.models.Consent.exists({ _id: consentId }));
  if (s.consent === 'opted_in' && !replay) return outcome('already_opted_in', text('optIn.already'));

  await openRequest(deps, { id: r.requestId, subscriberToken: s.key, type: 'opt_in', channel: r.channel });
  await recordConsent(deps, { id: consentId, subscriberId: s._id, action: 'grant', source: r.source, detail: r.detail, at: r.at });
  if (r.source === 'keyword' || r.source === 'button') await deps.models.Suppression.deleteOne({ _id: s.key });
  await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { consent: 'opted_in', consentAt: r.at ?? deps.clock.now() } });
  await closeRequest(deps, r.requestId, s.key, 'done', `marketing consent granted (${r.source})`);
  return outcome('opted_in', text('optIn.confirmed'));
}
