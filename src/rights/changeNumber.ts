import type { Deps } from '../deps';
import { at } from '../privacy/pii';
import { tokenOf } from './subscribers';

/**
 * Meta's `user_changed_number` system message: the person keeps their history, consent and
 * requests under the new number (Meta: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components). If we already know the new number as someone
 * else, nothing is merged: two records are safer than joining two people by mistake.
 */
export async function changeNumber(deps: Deps, oldWaId: string, newWaId: string): Promise<'moved' | 'unknown' | 'conflict'> {
  const { Subscriber, Request } = deps.models;
  const oldKey = tokenOf(deps, { waId: oldWaId });
  const newKey = tokenOf(deps, { waId: newWaId });
  if (oldKey === newKey) return 'moved';
  if (await Subscriber.exists({ key: newKey })) return 'conflict';
  const s = await Subscriber.findOne({ key: oldKey }, { _id: 1 }).lean();
  if (!s) return 'unknown';
  // The old number's token is remembered: staff notes and chained records made under it are found
  // again by an erasure (the old number itself is not suppressed: it may go to someone else).
  await Subscriber.updateOne(
    { _id: s._id },
    { $set: { key: newKey, waIdEnc: deps.pii.encrypt(newWaId, at('subscribers', 'waIdEnc', s._id)), lastActivityAt: deps.clock.now() }, $addToSet: { previousKeys: oldKey } },
  );
  await deps.models.Inbox.updateMany({ subscriberKey: oldKey }, { $set: { subscriberKey: newKey } });
  await Request.updateMany({ subscriberToken: oldKey }, { $set: { subscriberToken: newKey } });
  return 'moved';
}
