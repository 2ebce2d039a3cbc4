import type { Deps } from '../deps';
import { senderOf, touchProfile } from '../rights/subscribers';
import type { Category } from '../store/outboxStore';
import { windowOpen } from '../store/subscriberStore';
import { enqueueText } from './enqueue';
import { consentGate } from './gate';

export type ApiSendOutcome = { kind: 'queued'; queued: boolean } | { kind: 'refused'; reason: 'suppressed' | 'opted_out' | 'no_consent' | 'window' };

/**
 * A message from the business's other systems. Everything is decided before anything is written:
 * a refused request (an erased number, marketing without consent, outside the 24-hour window with
 * no template) leaves no record behind — no profile is created to refuse it. An erased number is
 * refused for every category: writing to it would re-create the person.
 */
export async function sendFromApi(
  deps: Deps,
  r: { waId: string; category: Extract<Category, 'marketing' | 'service'>; text: string; id: string; requestHash: string },
): Promise<ApiSendOutcome> {
  const { subscribers, suppressions } = deps.stores;
  const token = subscribers.tokenOf({ waId: r.waId });
  const [suppressed, existing, gate] = await Promise.all([
    suppressions.isSuppressed(token),
    subscribers.find({ waId: r.waId }),
    consentGate(deps.stores, { token, category: r.category }),
  ]);
  if (suppressed) return { kind: 'refused', reason: 'suppressed' };
  if (!gate.allowed) return { kind: 'refused', reason: gate.reason };
  if (!(existing && windowOpen(existing, deps.clock.now())) && !deps.config.graph.utilityTemplate) return { kind: 'refused', reason: 'window' };
  const s = existing ?? (await touchProfile(deps.rights, { waId: r.waId }));
  const queued = await enqueueText(deps, {
    id: r.id,
    subscriberId: s._id,
    to: subscribers.recipientOf(s),
    from: senderOf(deps.rights, s),
    category: r.category,
    text: r.text,
    by: 'api',
    requestHash: r.requestHash,
  });
  return { kind: 'queued', queued };
}
