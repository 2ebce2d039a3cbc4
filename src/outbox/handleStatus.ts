import type { Deps } from '../deps';
import type { ClaimedItem } from '../store/inboxStore';
import { graphKey } from '../privacy/ids';
import { recordMetaStop } from '../rights/marketingPreference';
import { failureTitle, isMarketingStop } from './graphClient';

const RANK: Record<string, number> = { pending: 0, sending: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

/**
 * A status webhook (sent, delivered, read, failed) for a message we sent, found through our own
 * callback id (`biz_opaque_callback_data`), or else the keyed hash of Meta's message id. Statuses
 * can arrive out of order, so a state only moves forward. A delivered or failed document is deleted
 * at Meta. A failure with 131050 is the person's own marketing stop in WhatsApp (isMarketingStop): it
 * is recorded as an opt-out at the time of the status, with no reply
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes); for a number we hold
 * no profile for, it is remembered pseudonymously.
 */
export async function handleStatus(deps: Deps, item: ClaimedItem): Promise<void> {
  const s = item.payload.item;
  const { outbox, conversation } = deps.stores;
  const state = String(s.status);
  const callback = typeof s.biz_opaque_callback_data === 'string' ? s.biz_opaque_callback_data : null;
  const doc = (callback ? await outbox.byId(callback) : null) ?? (await outbox.byGraphKey(graphKey(deps.pii, String(s.id))));
  if (doc && (RANK[state] ?? 0) > (RANK[doc.state] ?? 0)) {
    const code = state === 'failed' && s.errors?.[0] ? Number(s.errors[0].code) || 0 : null;
    const error = code !== null ? { code, title: failureTitle(code) } : doc.error;
    await outbox.advance(doc._id, state, error);
    await conversation.setStatus(doc._id, state);
    deps.bus.emit('conversation', String(doc.subscriberId));
  }
  if (doc?.mediaId && (state === 'delivered' || state === 'read' || state === 'failed')) {
    await deps.stores.mediaDeletions.schedule([{ mediaId: doc.mediaId, phoneNumberId: doc.phoneNumberId }], deps.clock.now());
  }
  const stoppedMarketing = state === 'failed' && (s.errors ?? []).some((e: { code?: unknown }) => isMarketingStop(e.code));
  if (!stoppedMarketing || !item.subscriberKey) return;
  const at = Number(s.timestamp) > 0 ? new Date(Number(s.timestamp) * 1000) : deps.clock.now();
  await recordMetaStop(deps.rights, { token: item.subscriberKey, source: 'meta_131050', at, requestId: `meta131050:${item.id}` });
}
