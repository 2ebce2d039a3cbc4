import type { ConsentSource } from '../store/consentStore';
import type { Subscriber } from '../store/subscriberStore';
import type { RightsContext } from './context';
import { recordCompletedRequest } from './ledger';
import { outcome, text, type Outcome } from './outcome';
import { announceConsent } from './consentEvent';
import { identityOf } from './subscribers';

/**
 * Records an opt-in with its source and the time the person acted. Only the person can lift their
 * own suppression (START in the chat, written after the erasure: rights/subscribers.ts drops what
 * they wrote before it); a third party cannot (api/consents answers 409 for suppressed numbers).
 * A START older than a STOP they sent later is recorded and changes nothing.
 */
export async function optIn(
  ctx: Pick<RightsContext, 'subscribers' | 'consents' | 'requests' | 'ledger' | 'suppressions' | 'clock' | 'announce'>,
  s: Subscriber,
  r: { requestId: string; source: ConsentSource; channel: string; at: Date; detail?: string; sourceRef?: string },
): Promise<Outcome> {
  const consentId = `${r.requestId}:grant`;
  const replay = s.consent === 'opted_in' && (await ctx.consents.exists(consentId));
  if (s.consent === 'opted_in' && !replay) {
    await ctx.subscribers.applyConsent(s._id, 'opted_in', r.at);
    return outcome('already_opted_in', text('optIn.already'));
  }

  await ctx.consents.record({ id: consentId, subscriberId: s._id, action: 'grant', source: r.source, detail: r.detail, sourceRef: r.sourceRef, at: r.at });
  const applied = replay || (await ctx.subscribers.applyConsent(s._id, 'opted_in', r.at));
  if (applied && (r.source === 'keyword' || r.source === 'button' || r.source === 'link')) await ctx.suppressions.lift(s.key);
  // Carried out at once: the request is recorded with how it ended.
  const request = { id: r.requestId, subscriberToken: s.key, type: 'opt_in' as const, channel: r.channel, receivedAt: r.at };
  await recordCompletedRequest(ctx, request, 'done', applied ? `marketing consent granted (${r.source})` : 'superseded by a newer choice');
  if (!applied) return outcome('opt_in_superseded');
  await announceConsent(ctx, 'granted', { token: s.key, identity: identityOf(ctx, s) }, r);
  return outcome('opted_in', text('optIn.confirmed'));
}
