import type { Types } from 'mongoose';
import type { Deps } from '../deps';
import { textBody } from '../messages/buildMessage';
import { renderReply } from '../messages/renderReply';
import type { ReplySpec } from '../rights/outcome';
import type { Line } from '../store/conversationStore';
import type { Category, NewItem } from '../store/outboxStore';
import type { Recipient, Subscriber } from '../store/subscriberStore';

export type { Category };

export interface EnqueueRequest {
  /** Idempotency: item i gets `${keyPrefix}:${i}`; a replayed step inserts nothing new. */
  keyPrefix: string;
  subscriberId: Types.ObjectId;
  to: Recipient;
  /** The business number (phone_number_id) to send from: the one the person wrote to. */
  from: string;
  locale: string;
  category: Category;
  replies: ReplySpec[];
  /** Also write the message into the conversation staff see (default true). */
  record?: boolean;
  /** Delete the outbox item once sent (the erasure confirmation: nothing of the person stays). */
  purgeAfterSend?: boolean;
  by?: string;
  /**
   * Nothing can be sent (outside the 24-hour window, no template): the replies are only written into
   * the conversation, marked `could_not_confirm`, so staff see what the person was not told.
   */
  unsendable?: boolean;
  /** Positions already reserved for these replies (store/subscriberStore.ts answerTurn). */
  firstOrder?: number;
  /** The profile as the turn that queues these replies left it (handed to this process's sender). */
  profile?: SendProfile;
}

/**
 * What the sender needs of a profile (outbox/worker.ts): who (the token, for the consent gate),
 * the 24-hour window and the language. A conversation turn hands it over with the replies it just
 * queued, with the time it was read, so the sender need not read the profile again.
 */
export type SendProfile = Pick<Subscriber, '_id' | 'key' | 'windowUntil' | 'locale'> & { readAt: Date };

/**
 * Writes outbound messages durably before anything is sent (the outbox worker sends them).
 * Rendering with i18next happens here, at the edge, from the use case's message keys.
 */
export async function enqueueReplies(deps: Deps, r: EnqueueRequest): Promise<string[]> {
  const ids: string[] = [];
  const first = r.firstOrder ?? (r.unsendable ? 0 : await nextOrder(deps, r.subscriberId, r.replies.length));
  for (const [i, spec] of r.replies.entries()) {
    const rendered = renderReply(deps.i18n, deps.config, r.locale, spec);
    const id = `${r.keyPrefix}:${i}`;
    ids.push(id);
    if (r.unsendable) {
      await recordLine(deps, {
        id,
        subscriberId: r.subscriberId,
        kind: rendered.kind,
        display: rendered.display,
        by: r.by ?? 'bot',
        status: 'could_not_confirm',
      });
      continue;
    }
    await enqueueRendered(deps, {
      profile: r.profile,
      id,
      subscriberId: r.subscriberId,
      to: r.to,
      from: r.from,
      category: r.category,
      kind: rendered.kind,
      body: rendered.body,
      display: rendered.display,
      order: first + i,
      record: r.record ?? true,
      purgeAfterSend: r.purgeAfterSend ?? false,
      by: r.by ?? 'bot',
      lineOnReplay: true,
    });
  }
  if (ids.length) deps.bus.emit('outbox');
  return ids;
}

/**
 * Positions for the next `count` outbound messages to this recipient: after everything queued for
 * them so far, even when clocks tie or differ between replicas (a subscriber's items are handled
 * one at a time). The last position is kept on the subscriber, so this reads and writes by `_id`.
 */
export async function nextOrder(deps: Deps, subscriberId: Types.ObjectId, count = 1): Promise<number> {
  return deps.stores.subscribers.nextOrder(subscriberId, deps.clock.now().getTime() * 100, count);
}

/** An outbox item with its conversation line: what staff see, who wrote it, and whether to record it. */
export type RenderedItem = Omit<NewItem, 'now'> & { display: string; record: boolean; by: string; lineOnReplay?: boolean; profile?: SendProfile };

/** Inserts one outbox item (and its conversation line); false when it already exists. */
export async function enqueueRendered(deps: Deps, it: RenderedItem): Promise<boolean> {
  // Into this process's sender's hand when it runs and keeps up (lib/handOver.ts); its line is then
  // written by the sender, once, with how the send ended (outbox/worker.ts), not 'queued' and moved.
  // Only the bot's own replies: a message staff or another system queued shows as queued at once
  // (it may wait behind the person's earlier messages, and staff must not think it lost).
  const leaseMs = deps.handOver.leaseFor('outbox', [it.id]);
  const line = leaseMs && it.record && it.by === 'bot' ? { display: it.display, by: it.by } : null;
  const stored = await deps.stores.outbox.insert({ ...it, now: deps.clock.now(), leaseMs, line }).catch((err: unknown) => {
    if (leaseMs) deps.handOver.forgo('outbox', [it.id]);
    throw err;
  });
  if (!stored && leaseMs) deps.handOver.forgo('outbox', [it.id]);
  // A replayed step (the process died between the item and its line) writes the missing line; a
  // reused key with other content (the integration API) must not.
  if (!stored && !it.lineOnReplay) return false;
  if (it.record && !(stored && line))
    await recordLine(deps, { id: it.id, subscriberId: it.subscriberId, kind: it.kind, display: it.display, by: it.by, status: 'queued' });
  // The sender of this process takes it from here without reading it again.
  if (stored) deps.bus.emit('outbox', [it.profile ? { ...stored, profile: it.profile } : stored]);
  return Boolean(stored);
}

/** One line of the conversation staff see, either way (idempotent on its id; the text sealed at its place). */
export async function recordLine(deps: Deps, l: Omit<Line, 'at'> & { at?: Date }): Promise<void> {
  await deps.stores.conversation.record({ ...l, at: l.at ?? deps.clock.now() });
  deps.bus.emit('conversation', String(l.subscriberId));
}

/** A free-form text from staff or another system, queued behind what this recipient already has. */
export async function enqueueText(
  deps: Deps,
  r: { id: string; subscriberId: Types.ObjectId; to: Recipient; from: string; category: Category; text: string; by: string; requestHash?: string },
): Promise<boolean> {
  const fresh = await enqueueRendered(deps, {
    requestHash: r.requestHash,
    id: r.id,
    subscriberId: r.subscriberId,
    to: r.to,
    from: r.from,
    category: r.category,
    kind: 'text',
    body: textBody(r.text),
    display: r.text,
    order: await nextOrder(deps, r.subscriberId),
    record: true,
    purgeAfterSend: false,
    by: r.by,
  });
  deps.bus.emit('outbox');
  return fresh;
}
