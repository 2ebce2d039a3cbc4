import { randomUUID } from 'node:crypto';
import type { RightsContext } from './context';
import { announceConsent } from './consentEvent';
import { touchProfile } from './subscribers';

export type ExternalConsentOutcome = { kind: 'recorded'; marketing: boolean; id: string } | { kind: 'suppressed' };

/**
 * An opt-in collected elsewhere (web form, shop counter), recorded through the integration API
 * with its source and time. A person whose data was erased is never re-subscribed by a third
 * party: only they can opt back in, in the chat. A consent older than the person's latest
 * withdrawal (theirs, staff's, or Meta's stop, even one that came before we knew them) is kept in
 * the history but does not override it.
 */
export async function recordExternalConsent(
  ctx: Pick<RightsContext, 'subscribers' | 'suppressions' | 'consents' | 'inbox' | 'requests' | 'ledger' | 'clock' | 'announce'>,
  r: { waId: string; source: string; collectedAt: Date },
): Promise<ExternalConsentOutcome> {
  if (await ctx.suppressions.isSuppressed(ctx.subscribers.tokenOf({ waId: r.waId }))) return { kind: 'suppressed' };
  const s = await touchProfile(ctx, { waId: r.waId });
  // A partner's clock running ahead must not place this consent after the person's own next STOP.
  const collectedAt = new Date(Math.min(r.collectedAt.getTime(), ctx.clock.now().getTime()));
  const id = `api:${randomUUID()}`;
  await ctx.consents.record({ id, subscriberId: s._id, action: 'grant', source: 'api', detail: r.source, at: collectedAt });
  await ctx.ledger.append({ requestId: id, subscriberToken: s.key, event: 'opt_in.recorded', detail: 'api' });
  // Sendable when this consent now sets the state, or when a newer opt-in already did.
  const applied = await ctx.subscribers.applyConsent(s._id, 'opted_in', collectedAt);
  if (applied)
    await announceConsent(
      ctx,
      'granted',
      { token: s.key, identity: () => ({ waId: r.waId }) },
      { requestId: id, source: 'api', channel: 'api', at: collectedAt },
    );
  const marketing = applied || s.consent === 'opted_in';
  return { kind: 'recorded', marketing, id };
}
