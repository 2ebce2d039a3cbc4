import type { Deps } from '../deps';
import type { PrivacyEvent } from '../rights/context';
import { pseudonymOf } from './signature';

/** The version of the event body (docs/events.md): a receiver can tell a shape it does not know. */
export const EVENT_BODY_VERSION = 1;

/** Increasing within a process; across processes close to the time written (a person's events come from one turn at a time). */
let lastOrder = 0;
const nextOrder = () => (lastOrder = Math.max(lastOrder + 1, Date.now() * 1000));

/**
 * Queues one event for every configured receiver (the rights use cases call this through their
 * context's `announce`). Each receiver gets its own pseudonym of the person, and the number only
 * where it is trusted with it (EVENT_WEBHOOK_INCLUDE_NUMBER). Nothing is sent here: the events
 * worker posts them, signed, in order per person and receiver, until each is acknowledged.
 */
export async function announce(deps: Deps, e: PrivacyEvent): Promise<void> {
  const { receivers } = deps.config.events;
  if (receivers.length === 0) return;
  // No way to name the person to anyone (an erasure resumed without its address): nothing to send.
  const identity = e.identity();
  if (!identity.waId && !identity.bsuid) return;
  const now = deps.clock.now();
  const order = nextOrder();
  for (const r of receivers) {
    const number = r.includeNumber && identity.waId ? `+${identity.waId.replace(/\D/g, '')}` : undefined;
    const body = {
      version: EVENT_BODY_VERSION,
      id: e.id,
      type: e.type,
      occurredAt: e.at.toISOString(),
      subject: { pseudonym: pseudonymOf(r.secret, identity), ...(number ? { number } : {}) },
      data: e.data,
    };
    await deps.stores.events.insert({ eventId: e.id, receiver: r.id, type: e.type, subjectKey: e.subjectToken, body, order, now });
  }
  deps.bus.emit('events');
}
