import type { Deps } from '../deps';
import type { ClaimedItem } from '../inbox/worker';
import { graphKey } from '../privacy/ids';
import { recordMetaStop } from '../rights/marketingPreference';
import { failureTitle } from './graphClient';
import { scheduleMediaDeletion } from './media';

const RANK: Record<string, number> = { pending: 0, sending: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

/**
 * A status webhook (sent, delivered, read, failed) for a message we sent, found through our own
 * callback id (`biz_opaque_callback_data`), or else the keyed hash of Meta's message id. Statuses
 * can arrive out of order, so a state only moves forward. A delivered or failed document is deleted
 * at Meta. A failure with 131050 is the person's own marketing stop in WhatsApp: it is recorded as
 * an opt-out at the time of the status, with no reply (Meta "Error codes"); for a number we hold
 * no profile for, it is remembered pseudonymously.
 */
export async function handleStatus(deps: Deps, item: ClaimedItem): Promise<void> {
  const s = item.payload.item;
  const { Outbox, Message } = deps.models;
  const state = String(s.status);
  const callback = typeof s.biz_opaque_callback_data === 'string' ? s.biz_opaque_callback_data : null;
  const doc = (callback ? await Outbox.findById(callback).lean() : null) ?? (await Outbox.findOne({ graphKey: graphKey(deps.pii, String(s.id)) }).lean());
  if (doc && (RANK[state] ?? 0) > (RANK[doc.state] ?? 0)) {
    const code = state === 'failed' && s.errors?.[0] ? Number(s.errors[0].code) || 0 : null;
    const error = code !== null ? { code, title: failureTitle(code) } : doc.error;
    await Outbox.updateOne({ _id: doc._id }, { $set: { state, error } });
    await Message.updateOne({ _id: doc._id }, { $set: { status: state } });
    deps.bus.emit('conversation', String(doc.subscriberId));
  }
  if (doc?.mediaId && (state === 'delivered' || state === 'read' || state === 'failed')) {
    await scheduleMediaDeletion(deps, [{ mediaId: doc.mediaId, phoneNumberId: doc.phoneNumberId }], deps.clock.now());
  }
  const failedWith131050 = state === 'failed' && (s.errors ?? []).some((e: { code?: number }) => Number(e.code) === 131050);
  if (!failedWith131050 || !item.subscriberKey) return;
  const at = Number(s.timestamp) > 0 ? new Date(Number(s.timestamp) * 1000) : deps.clock.now();
  await recordMetaStop(deps, { token: item.subscriberKey, source: 'meta_131050', at, requestId: `meta131050:${item.id}` });
}
