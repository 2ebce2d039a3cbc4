import type { Deps } from '../deps';
import { errorLabel } from '../lib/errors';
import { IDLE_POLL_MS, queueWorker } from '../lib/pollingLoop';

const EPOCH = new Date(0);
import type { ClaimedItem, InboxDoc } from '../store/inboxStore';

export type ItemHandler = (item: ClaimedItem) => Promise<void>;

export interface WorkerOptions {
  leaseMs?: number;
  /** Items handled at once (different subscribers only). */
  concurrency?: number;
  idleMs?: number;
  /** Open items read per pass (the oldest). */
  windowSize?: number;
  maxAttempts?: number;
}

export interface InboxWorker {
  /** Claims and handles what is due now; resolves with the number of items handled. */
  runOnce(): Promise<number>;
  start(): void;
  /** Wakes the loop (a delivery was just stored). */
  kick(): void;
  /** Items this process just stored, as stored: claimed without being read again. */
  offer(docs: InboxDoc[]): void;
  /** Places in this worker's hand for items about to be stored (lib/handOver.ts), and the lease they are born with. */
  reserve(ids: string[]): boolean;
  forgo(ids: string[]): void;
  readonly leaseMs: number;
  /** Stops claiming; waits for items in hand; gives back nothing else (leases expire on their own). */
  stop(): Promise<void>;
}

/**
 * Processes inbox items after the webhook's 200. Several replicas may run this on one database:
 * an item is claimed by a unique insert (store/claimStore.ts: atomic on MongoDB and FerretDB alike)
 * and then leased, and a crash
 * mid-processing only means the lease runs out and the item is claimed again. Handlers are
 * idempotent, so a replay does no harm twice. Order per subscriber: only the oldest open item of a
 * subscriber may be claimed.
 */
export function createInboxWorker(deps: Deps, handle: ItemHandler, opts: WorkerOptions = {}): InboxWorker {
  const inbox = deps.stores.inbox;
  const log = deps.log.child({ module: 'inbox' });
  const leaseMs = opts.leaseMs ?? 30_000;
  const concurrency = opts.concurrency ?? 16;
  const idleMs = opts.idleMs ?? IDLE_POLL_MS;
  const maxAttempts = opts.maxAttempts ?? 8;

  async function process(doc: InboxDoc): Promise<void> {
    const item: ClaimedItem = {
      id: doc._id,
      field: doc.field,
      type: doc.type,
      subscriberKey: doc.subscriberKey ?? null,
      payload: inbox.payloadOf(doc),
      attempts: doc.attempts,
      receivedAt: doc.receivedAt,
    };
    try {
      await handle(item);
      await inbox.done(doc._id, deps.clock.now(), doc.attempts);
      deps.metrics.inboxProcessed.inc({ outcome: 'done' });
    } catch (err) {
      const failed = doc.attempts >= maxAttempts;
      // Retry later by letting a short lease stand; give up after maxAttempts so one poison item
      // does not block the subscriber's queue forever (staff see it as failed).
      const backoff = Math.min(60_000, 1000 * 2 ** doc.attempts);
      // Only an error code or class is stored: a message can quote personal data.
      const lastError = errorLabel(err);
      const retryAt = new Date(deps.clock.now().getTime() + backoff);
      await (failed ? inbox.failed(doc._id, lastError) : inbox.retryAfter(doc._id, retryAt, lastError, doc.attempts)).catch(() => undefined);
      deps.metrics.inboxProcessed.inc({ outcome: failed ? 'failed' : 'retry' });
      log.error({ err, item: doc._id, attempts: doc.attempts, failed }, 'inbox item failed');
    }
  }

  // Oldest first: WhatsApp's timestamp (seconds) and position in the delivery; two deliveries in
  // the same second are taken in the order they arrived.
  const worker = queueWorker({
    now: () => deps.clock.now(),
    window: (limit) => inbox.openItems(limit),
    windowSize: opts.windowSize ?? 256,
    idOf: (c) => c._id,
    keyOf: (c) => c.subscriberKey ?? `item:${c._id}`,
    dueAt: (c) => (c.state === 'pending' ? EPOCH : (c.leaseUntil ?? EPOCH)),
    claim: (c, now) => inbox.claim(c, now, leaseMs),
    claimOffered: (c, offered, now) => inbox.claimOffered(c, offered, now, leaseMs),
    inHandAsWritten: (c, offered: InboxDoc, now) => inbox.inHandAsWritten(c, offered, now, leaseMs),
    release: (offered: InboxDoc, now: Date) => inbox.release(offered, now, leaseMs),
    leaseMs,
    work: process,
    concurrency,
    idleMs,
    refreshBacklog: async () => deps.metrics.inboxBacklog.set(await inbox.backlog()),
    onError: (err) => log.warn({ err }, 'inbox poll failed; retrying'),
  });
  return { ...worker, leaseMs };
}
