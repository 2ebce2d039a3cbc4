import type { RightsContext } from './context';

/**
 * Meta's `user_changed_number` system message: the person keeps their history, consent and
 * requests under the new number (https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components).
 * If we already know the new number as someone else, nothing is merged: two records are safer
 * than joining two people by mistake.
 */
export async function changeNumber(
  ctx: Pick<RightsContext, 'subscribers' | 'inbox' | 'requests' | 'clock'>,
  oldWaId: string,
  newWaId: string,
): Promise<'moved' | 'unknown' | 'conflict'> {
  const { subscribers } = ctx;
  const oldKey = subscribers.tokenOf({ waId: oldWaId });
  const newKey = subscribers.tokenOf({ waId: newWaId });
  if (oldKey === newKey) return 'moved';
  if (await subscribers.keyTaken(newKey)) return 'conflict';
  const s = await subscribers.find({ waId: oldWaId });
  if (!s || s.key !== oldKey) return 'unknown';
  // The old number's token is remembered: staff notes and chained records made under it are found
  // again by an erasure (the old number itself is not suppressed: it may go to someone else).
  await subscribers.moveNumber(s._id, oldKey, newKey, newWaId, ctx.clock.now());
  await ctx.inbox.rekey(oldKey, newKey);
  await ctx.requests.rekey(oldKey, newKey);
  return 'moved';
}
