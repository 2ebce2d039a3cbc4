import type { Deps } from '../deps';
import type { ClaimedItem } from '../inbox/worker';
import { optOut } from '../rights/optOut';
import type { Subscriber } from '../rights/subscribers';

const RANK: Record<string, number> = { pending: 0, sending: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

/**
 * A status webhook (sent, delivered, read, failed) for a message we sent. Statuses can arrive out
 * of order, so a state only moves forward. A failure with 131050 is the person's own marketing
 * stop in WhatsApp: it is recorded as an opt-out, with no reply (Meta "Error codes").
 */
export async function handleStatus(deps: Deps, item: ClaimedItem): Promise<void> {
  const s = item.payload.item;
  const { Outbox, Message, Subscriber } = deps.models;
  const state = String(s.status);
  const doc = await Outbox.findOne({ graphId: s.id }).lean();
  if (doc && (RANK[state] ?? 0) > (RANK[doc.state] ?? 0)) {
    const error = state === 'failed' && s.errors?.[0] ? { code: Number(s.errors[0].code), title: String(s.errors[0].title ?? '').slice(0, 200) } : doc.error;
    await Outbox.updateOne({ _id: doc._id }, { $set: { state, error } });
    await Message.updateOne({ _id: doc._id }, { $set: { status: state } });
    deps.bus.emit('conversation', String(doc.subscriberId));
  }
  const failedWith131050 = state === 'failed' && (s.errors ?? []).some((e: { code?: number }) => Number(e.code) === 131050);
  if (!failedWith131050 || !item.subscriberKey) return;
  const sub = (await Subscriber.findOne({ key: item.subscriberKey }).lean()) as Subscriber | null;
  if (sub) await optOut(deps, sub, { requestId: `meta131050:${s.id}`, source: 'meta_131050', channel: 'meta', silent: true });
}
