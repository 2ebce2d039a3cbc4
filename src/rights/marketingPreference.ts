import type { Deps } from '../deps';
import { recordConsent, rememberOptOutSignal } from './consent';
import { optOut } from './optOut';
import { findSubscriber, tokenOf, type Subscriber } from './subscribers';

/**
 * Meta's `user_preferences` webhook: the person stopped (or resumed) marketing messages in
 * WhatsApp's own UI. A stop is an opt-out like any other (no reply is sent), at the time they
 * acted; for a number we hold no profile for it is remembered pseudonymously, so a consent older
 * than it cannot make the number sendable later. A resume is recorded, but is not an opt-in to our
 * marketing: only START or a recorded consent is.
 */
export async function marketingPreference(deps: Deps, r: { requestId: string; waId?: string; bsuid?: string; value: string; at: Date }): Promise<string> {
  const s = (await findSubscriber(deps, { waId: r.waId, bsuid: r.bsuid })) as Subscriber | null;
  if (!s) {
    if (r.value !== 'stop') return 'unknown_subscriber';
    await rememberOptOutSignal(deps, tokenOf(deps, { waId: r.waId, bsuid: r.bsuid }), 'meta_preferences', r.at);
    return 'signal_recorded';
  }
  if (r.value === 'stop') {
    return (await optOut(deps, s, { requestId: r.requestId, source: 'meta_preferences', channel: 'meta', at: r.at, silent: true })).kind;
  }
  if (r.value === 'resume') {
    await recordConsent(deps, { id: `${r.requestId}:resume`, subscriberId: s._id, action: 'resume', source: 'meta_preferences', at: r.at });
    return 'resume_recorded';
  }
  return 'ignored';
}
