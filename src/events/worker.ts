import type { Deps } from '../deps';
import { errorLabel } from '../lib/errors';
import { IDLE_POLL_MS, queueWorker } from '../lib/pollingLoop';
import { opsAlert } from '../privacy/alerts';
import type { EventDoc } from '../store/eventStore';
import { signEvent } from './signature';

export interface EventWorkerOptions {
  leaseMs?: number;
  concurrency?: number;
  idleMs?: number;
  timeoutMs?: number;
  /** An event still not acknowledged after this long is given up (and its body dropped). */
  maxAgeMs?: number;
  /** Open events read per receiver per pass (the oldest). */
  windowSize?: number;
}

/** An event not acknowledged after this long is given up (by the worker, or by the retention sweep for a receiver no longer configured). */
export const EVENT_GIVE_UP_MS = 3 * 24 * 3600_000;

/** 1 s, 2 s, 4 s … capped at a minute: a receiver back after an outage gets its backlog within a minute. */
export function eventBackoffMs(attempts: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, attempts - 1));
}

/**
 * Posts queued privacy events to their receivers (events/announce.ts), signed
 * (events/signature.ts), in order per person and receiver: a person's later event waits until the
 * receiver acknowledged (2xx) the earlier one, while other people's and other receivers' events go
 * on. Claimed like the outbox (several replicas share the work; a crash means a lease runs out and
 * the event is posted again: receivers deduplicate on its id). A receiver that keeps failing raises
 * an ops alert (ALERT_WEBHOOK_URL) after EVENT_WEBHOOK_ALERT_AFTER_FAILURES failures in a row.
 */
export function createEventWorker(deps: Deps, opts: EventWorkerOptions = {}) {
  const store = deps.stores.events;
  const log = deps.log.child({ module: 'events' });
  const leaseMs = opts.leaseMs ?? 30_000;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxAgeMs = opts.maxAgeMs ?? EVENT_GIVE_UP_MS;
  const receivers = new Map(deps.config.events.receivers.map((r) => [r.id, r]));
  const failuresInARow = new Map<string, number>();

  async function deliver(doc: EventDoc): Promise<void> {
    const r = receivers.get(doc.receiver);
    // Not configured in this process (a replica of an older configuration during a rolling deploy):
    // left to its lease, for a replica that knows the receiver.
    if (!r) return;
    const body = store.bodyOf(doc);
    let status: string;
    try {
      const res = await fetch(r.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-privacy-event-id': doc.eventId,
          'x-privacy-event-type': doc.type,
          'x-privacy-signature': signEvent(r.secret, Math.floor(Date.now() / 1000), body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body?.cancel().catch(() => undefined);
      status = String(res.status);
      if (res.ok) {
        await store.delivered(doc._id, status, deps.clock.now());
        failuresInARow.delete(r.id);
        deps.metrics.eventDeliveries.inc({ outcome: 'delivered' });
        return;
      }
    } catch (err) {
      // fetch's own error is a bare TypeError: its cause says what happened (ECONNREFUSED, a timeout).
      status = errorLabel((err as { cause?: unknown }).cause ?? err);
    }
    const failures = (failuresInARow.get(r.id) ?? 0) + 1;
    failuresInARow.set(r.id, failures);
    // From the threshold on, every failure asks for the alert; opsAlert posts it at most every 15 minutes.
    if (failures >= deps.config.events.alertAfterFailures) opsAlert(deps, 'event_receiver_failing', { receiver: r.id, failures, lastStatus: status });
    if (deps.clock.now().getTime() - new Date(doc.createdAt).getTime() > maxAgeMs) {
      await store.failed(doc._id, status);
      deps.metrics.eventDeliveries.inc({ outcome: 'failed' });
      log.error({ event: doc.eventId, receiver: r.id, status }, 'event given up');
      opsAlert(deps, 'event_given_up', { receiver: r.id, type: doc.type, lastStatus: status });
      return;
    }
    const wait = eventBackoffMs(doc.attempts);
    await store.retryAt(doc._id, new Date(deps.clock.now().getTime() + wait), status);
    deps.metrics.eventDeliveries.inc({ outcome: 'retry' });
    log.warn({ event: doc.eventId, receiver: r.id, status, attempt: doc.attempts, waitMs: wait }, 'event delivery will be retried');
  }

  const worker = queueWorker({
    now: () => deps.clock.now(),
    window: (limit) => store.openItems(limit, [...receivers.keys()]),
    windowSize: opts.windowSize ?? 256,
    idOf: (c) => c._id,
    // In order per person and receiver: one receiver's outage holds back only its own queue.
    keyOf: (c) => `${c.receiver}:${c.subjectKey ?? c._id}`,
    dueAt: (c) => (c.state === 'pending' ? c.nextAttemptAt : (c.leaseUntil ?? new Date(0))),
    claim: (c, now) => store.claim(c, now, leaseMs),
    leaseMs,
    work: (doc: EventDoc) =>
      deliver(doc).catch((err) => log.error({ err, event: doc.eventId }, 'event delivery crashed; the lease will expire and it is retried')),
    concurrency: opts.concurrency ?? 8,
    idleMs: opts.idleMs ?? IDLE_POLL_MS,
    refreshBacklog: async () => deps.metrics.eventBacklog.set(await store.backlog()),
    onError: (err) => log.warn({ err }, 'events poll failed; retrying'),
  });
  return worker;
}

export type EventWorker = ReturnType<typeof createEventWorker>;
