import type { Deps } from '../deps';
import { recordConsent, rememberOptOutSignal } from './consent';
import { optOut } from './optOut';
import { tokenOf, type Subscriber } from './subscribers';

const byToken = async (deps: Deps, token: string) => (await deps.models.Subscriber.findOne({ $or: [{ key: token }, { bsuidKey: token }] }).lean()) as Subscriber | null;

/**
 * Meta's own marketing stop for a person (a `user_preferences` stop, or a send that failed with
 * 131050): an opt-out like any other, with no reply, at the time they acted. For a number we hold
 * no profile for it is remembered pseudonymously, so a consent older than it cannot make the
 * number sendable later; a profile created at the same moment (which found no signal yet) is
 * checked again and takes the stop.
 */
export async function recordMetaStop(deps: Deps, r: { token: string; source: 'meta_preferences' | 'meta_131050'; at: Date; requestId: string }): Promise<string> {
  const s = await byToken(deps, r.token);
  if (s) return (await optOut(deps, s, { requestId: r.requestId, source: r.source, channel: 'meta', at: r.at, silent: true })).kind;
  await rememberOptOutSignal(deps, r.token, r.source, r.at);
  const created = await byToken(deps, r.token);
  if (!created) return 'signal_recorded';
  await deps.models.OptOutSignal.deleteOne({ _id: r.token });
  return (await optOut(deps, created, { requestId: r.requestId, source: r.source, channel: 'meta', at: r.at, silent: true })).kind;
}

/**
 * Meta's `user_preferences` webhook: the person stopped (or resumed) marketing messages in
 * WhatsApp's own UI. A resume is recorded, but is not an opt-in to our marketing: only START or a
 * recorded consent is.
 */
export async function marketingPreference(deps: Deps, r: { requestId: string; waId?: string; bsuid?: string; value: string; at: Date }): Promise<string> {
  const token = tokenOf(deps, { waId: r.waId, bsuid: r.bsuid });
  if (r.value === 'stop') return recordMetaStop(deps, { token, source: 'meta_preferences', at: r.at, requestId: r.requestId });
  if (r.value !== 'resume') return 'ignored';
  const s = await byToken(deps, token);
  if (!s) return 'unknown_subscriber';
  await recordConsent(deps, { id: `${r.requestId}:resume`, subscriberId: s._id, action: 'resume', source: 'meta_preferences', at: r.at });
  return 'resume_recorded';
}
