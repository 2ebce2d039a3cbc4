import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps';
import { isSuppressed, recordConsent } from './consent';
import { appendLedger } from './ledger';
import { findSubscriber, touchProfile, tokenOf } from './subscribers';

export type ExternalConsentOutcome = { kind: 'recorded'; marketing: boolean; id: string } | { kind: 'suppressed' };

/**
 * An opt-in collected elsewhere (web form, shop counter), recorded through the integration API
 * with its source and time. A person whose data was erased is never re-subscribed by a third
 * party: only they can opt back in, in the chat. A consent older than the person's latest
 * withdrawal is kept in the history but does not override it.
 */
export async function recordExternalConsent(deps: Deps, r: { waId: string; source: string; collectedAt: Date }): Promise<ExternalConsentOutcome> {
  const token = tokenOf(deps, { waId: r.waId });
  if (await isSuppressed(deps, token)) return { kind: 'suppressed' };
  const s = (await findSubscriber(deps, { waId: r.waId })) ?? (await touchProfile(deps, { waId: r.waId }));
  const id = `api:${randomUUID()}`;
  await recordConsent(deps, { id, subscriberId: s._id, action: 'grant', source: 'api', detail: r.source, at: r.collectedAt });
  await appendLedger(deps, { requestId: id, subscriberToken: s.key, event: 'opt_in.recorded', detail: 'api' });
  const newerWithdrawal = s.consent === 'opted_out' && s.consentAt && s.consentAt > r.collectedAt;
  if (!newerWithdrawal) await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { consent: 'opted_in', consentAt: r.collectedAt } });
  return { kind: 'recorded', marketing: !newerWithdrawal, id };
}
