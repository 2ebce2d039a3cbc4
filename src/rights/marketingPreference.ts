import type { SignalSource } from '../store/suppressionStore';
import type { SubjectIdentity, RightsContext } from './context';
import { announceConsent } from './consentEvent';
import { optOut, type OptOutContext } from './optOut';

type Ctx = OptOutContext & Pick<RightsContext, 'suppressions'>;

/**
 * Meta's own marketing stop for a person (a `user_preferences` stop, or a send that failed with
 * 131050): an opt-out like any other, with no reply, at the time they acted. For a number we hold
 * no profile for it is remembered pseudonymously, so a consent older than it cannot make the
 * number sendable later; a profile created at the same moment (which found no signal yet) is
 * checked again and takes the stop.
 */
export async function recordMetaStop(
  ctx: Ctx,
  r: { token: string; source: SignalSource; at: Date; requestId: string; identity?: SubjectIdentity },
): Promise<string> {
  const stop = { requestId: r.requestId, source: r.source, channel: 'meta', at: r.at, silent: true };
  const s = await ctx.subscribers.byToken(r.token);
  if (s) return (await optOut(ctx, s, stop)).kind;
  await ctx.suppressions.rememberSignal(r.token, r.source, r.at);
  const created = await ctx.subscribers.byToken(r.token);
  if (!created) {
    // We hold no profile, but the business's other tools may hold the person: they are told too.
    if (r.identity) await announceConsent(ctx, 'withdrawn', { token: r.token, identity: () => r.identity! }, { ...stop, source: r.source });
    return 'signal_recorded';
  }
  await ctx.suppressions.dropSignals([r.token]);
  return (await optOut(ctx, created, stop)).kind;
}

/**
 * Meta's `user_preferences` webhook: the person stopped (or resumed) marketing messages in
 * WhatsApp's own UI. A resume is recorded, but is not an opt-in to our marketing: only START or a
 * recorded consent is.
 */
export async function marketingPreference(ctx: Ctx, r: { requestId: string; waId?: string; bsuid?: string; value: string; at: Date }): Promise<string> {
  const token = ctx.subscribers.tokenOf({ waId: r.waId, bsuid: r.bsuid });
  if (r.value === 'stop')
    return recordMetaStop(ctx, { token, source: 'meta_preferences', at: r.at, requestId: r.requestId, identity: { waId: r.waId, bsuid: r.bsuid } });
  if (r.value !== 'resume') return 'ignored';
  const s = await ctx.subscribers.byToken(token);
  if (!s) return 'unknown_subscriber';
  await ctx.consents.record({ id: `${r.requestId}:resume`, subscriberId: s._id, action: 'resume', source: 'meta_preferences', at: r.at });
  return 'resume_recorded';
}
