import type { ConsentSource } from '../store/consentStore';
import type { Subscriber } from '../store/subscriberStore';
import type { RightsContext } from './context';
import { recordCompletedRequest } from './ledger';
import { outcome, text, type Outcome } from './outcome';
import { announceConsent } from './consentEvent';
import { identityOf } from './subscribers';

export type OptOutContext = Pick<RightsContext, 'subscribers' | 'consents' | 'requests' | 'ledger' | 'clock' | 'announce'>;

/**
 * Withdraws marketing consent at once, with no confirmation step: GDPR Art. 7(3) (as easy as
 * giving it) and 21(3) (objection to direct marketing is absolute); FCC 24-24 (any reasonable
 * means; one confirmation, no marketing in it). Idempotent on `requestId`.
 *
 * `at` is when the person acted: a STOP older than a START they sent later is recorded in the
 * history and changes nothing (and is not answered: their newer choice stands).
 */
export async function optOut(
  ctx: OptOutContext,
  s: Subscriber,
  r: { requestId: string; source: ConsentSource; channel: string; at: Date; silent?: boolean; detail?: string },
): Promise<Outcome> {
  const consentId = `${r.requestId}:withdraw`;
  const replay = s.consent === 'opted_out' && (await ctx.consents.exists(consentId));
  if (s.consent === 'opted_out' && !replay) {
    // Said again, later: the state's time moves on, so an older START delivered late cannot win.
    await ctx.subscribers.applyConsent(s._id, 'opted_out', r.at);
    return outcome('already_opted_out', ...(r.silent ? [] : [text('optOut.already')]));
  }

  await ctx.consents.record({ id: consentId, subscriberId: s._id, action: 'withdraw', source: r.source, detail: r.detail, at: r.at });
  const applied = replay || (await ctx.subscribers.applyConsent(s._id, 'opted_out', r.at));
  // The clarifying question is answered by this; a pending erasure is not touched.
  if (s.pending?.kind === 'opt_out_question') await ctx.subscribers.clearQuestion(s._id, 'opt_out_question');
  // Carried out at once: the request is recorded with how it ended.
  const request = { id: r.requestId, subscriberToken: s.key, type: 'opt_out' as const, channel: r.channel, receivedAt: r.at };
  await recordCompletedRequest(ctx, request, 'done', applied ? `marketing consent withdrawn (${r.source})` : 'superseded by a newer choice');
  if (!applied) return outcome('opt_out_superseded');
  // Every marketing tool that holds the person must stop too (Art. 21(3)).
  await announceConsent(ctx, 'withdrawn', { token: s.key, identity: identityOf(ctx, s) }, r);
  return outcome('opted_out', ...(r.silent ? [] : [text('optOut.confirmed')]));
}
