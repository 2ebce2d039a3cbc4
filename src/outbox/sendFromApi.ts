import type { Deps } from '../deps';
import { findSubscriber, recipientOf, senderOf, tokenOf, touchProfile } from '../rights/subscribers';
import type { Category } from './enqueue';
import { enqueueText } from './enqueue';
import { consentGate } from './gate';

export type ApiSendOutcome = { kind: 'queued'; queued: boolean } | { kind: 'refused'; reason: 'suppressed' | 'opted_out' | 'no_consent' | 'window' };

/**
 * A message from the business's other systems. Everything is decided before anything is written:
 * a refused request (an erased number, marketing without consent, outside the 24-hour window with
 * no template) leaves no record behind — no profile is created to refuse it. An erased number is
 * refused for every category: writing to it would re-create the person.
 */
export async function sendFromApi(deps: Deps, r: { waId: string; category: Extract<Category, 'marketing' | 'service'>; text: string; id: string; requestHash: string }): Promise<ApiSendOutcome> {
  const token = tokenOf(deps, { waId: r.waId });
  const [suppressed, existing, gate] = await Promise.all([
    deps.models.Suppression.exists({ _id: token }),
    findSubscriber(deps, { waId: r.waId }),
    consentGate(deps, { token, category: r.category }),
  ]);
  if (suppressed) return { kind: 'refused', reason: 'suppressed' };
  if (!gate.allowed) return { kind: 'refused', reason: gate.reason };
  const windowOpen = Boolean(existing?.windowUntil && existing.windowUntil > deps.clock.now());
  if (!windowOpen && !deps.config.graph.utilityTemplate) return { kind: 'refused', reason: 'window' };
  const s = existing ?? (await touchProfile(deps, { waId: r.waId }));
  const queued = await enqueueText(deps, { id: r.id, subscriberId: s._id, to: recipientOf(deps, s), from: senderOf(deps, s), category: r.category, text: r.text, by: 'api', requestHash: r.requestHash });
  return { kind: 'queued', queued };
}
