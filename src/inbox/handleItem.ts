import { handleMessage, type Turn } from '../chat/handleMessage';
import type { KeywordPacks } from '../chat/keywordPacks';
import type { Deps } from '../deps';
import { enqueueReplies } from '../outbox/enqueue';
import { handleStatus } from '../outbox/handleStatus';
import { marketingPreference } from '../rights/marketingPreference';
import { senderOf } from '../rights/subscribers';
import { windowOpen } from '../store/subscriberStore';
import type { ClaimedItem } from '../store/inboxStore';
import type { ItemHandler } from './worker';

/** Routes a claimed inbox item to the code for its kind, and queues what a conversation turn answers. */
export function createItemHandler(deps: Deps, packs: KeywordPacks): ItemHandler {
  const log = deps.log.child({ module: 'chat' });
  return async (item: ClaimedItem) => {
    switch (item.field) {
      case 'messages': {
        const turn = await handleMessage(deps.rights, packs, item);
        if (!turn) {
          if (item.payload.item.type !== 'system')
            log.info({ item: item.id }, "message not processed: written before the sender's erasure, or a sandbox message for someone else");
          return;
        }
        // The person's message is in the conversation now, answered or not (a paused one is not).
        deps.bus.emit('conversation', String(turn.subscriber._id));
        log.info(
          { item: item.id, subscriber: turn.subscriber.key.slice(0, 12), action: turn.action, outcome: turn.outcome.kind, locale: turn.locale },
          'message handled',
        );
        try {
          await queueTurn(deps, item.id, turn);
        } catch (err) {
          // Retried whole: the retry reads the profile afresh (store/subscriberStore.ts).
          deps.stores.subscribers.discard(turn.subscriber._id);
          throw err;
        }
        // What the turn staged for the profile, if no write of the turn took it along.
        return deps.stores.subscribers.endTurn(turn.subscriber._id);
      }
      case 'statuses':
        return handleStatus(deps, item);
      case 'user_preferences': {
        const p = item.payload.item;
        if (p.category !== 'marketing_messages') return;
        await marketingPreference(deps.rights, {
          requestId: item.id,
          waId: p.wa_id || undefined,
          bsuid: p.user_id,
          value: String(p.value),
          at: new Date(Number(p.timestamp) * 1000),
        });
        return;
      }
    }
  };
}

/**
 * The replies of one turn, queued durably under keys derived from the inbox item. A message that
 * reaches us after its 24-hour window (a late redelivery) can be answered only with the utility
 * template; without one nothing doomed is queued: the action stands, and staff see the
 * confirmation as "could not confirm". With a template only the first reply goes (as that
 * template, outbox/worker.ts): documents and buttons cannot travel outside the window, and one
 * notice is enough.
 */
async function queueTurn(deps: Deps, itemId: string, turn: Turn): Promise<void> {
  const { subscriber: s, outcome, locale } = turn;
  const open = windowOpen(s, deps.clock.now());
  const sendable = open ? outcome.replies : deps.config.graph.utilityTemplate ? outcome.replies.slice(0, 1) : [];
  // The replies' places in the person's queue, and the person answered (store/subscriberStore.ts).
  const floor = deps.clock.now().getTime() * 100;
  const firstOrder = await deps.stores.subscribers.answerTurn(s, floor, sendable.length, outcome.replies.length > 0);
  if (outcome.replies.length === 0) return;
  const common = { subscriberId: s._id, to: deps.stores.subscribers.recipientOf(s), from: senderOf(deps.rights, s), locale, category: 'rights' as const };
  // The profile as this turn leaves it goes with the replies to this process's sender.
  const profile = { _id: s._id, key: s.key, windowUntil: s.windowUntil, locale, readAt: turn.readAt };
  if (sendable.length) await enqueueReplies(deps, { ...common, keyPrefix: itemId, replies: sendable, firstOrder, profile });
  const rest = outcome.replies.slice(sendable.length);
  if (rest.length) await enqueueReplies(deps, { ...common, keyPrefix: `${itemId}:late`, replies: rest, unsendable: true });
}
