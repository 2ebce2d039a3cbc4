import type { Deps } from '../deps';
import { errorLabel } from '../lib/errors';
import { at } from '../privacy/pii';
import { claimAndWork, headsOf } from '../lib/heads';
import { workerLoop } from '../lib/pollingLoop';
import type { InboundPayload } from '../webhook/explode';

/** An inbox item as the processing code sees it: decrypted payload, claim metadata. */
export interface ClaimedItem {
  id: string;
  field: string;
  type: string;
  subscriberKey: string | null;
  payload: InboundPayload;
  attempts: number;
  receivedAt: Date;
}

export type ItemHandler = (item: ClaimedItem) => Promise<void>;

export interface WorkerOptions {
  leaseMs?: number;
  /** Items handled at once (different subscribers only). */
  concurrency?: number;
  idleMs?: number;
  maxAttempts?: number;
}

export interface InboxWorker {
  /** Claims and handles what is due now; resolves with the number of items handled. */
  runOnce(): Promise<number>;
  start(): void;
  /** Wakes the loop (a delivery was just stored). */
  kick(): void;
  /** Stops claiming; waits for items in hand; gives back nothing else (leases expire on their own). */
  stop(): Promise<void>;
}

/**
 * Processes inbox items after the webhook's 200. Several replicas may run this on one database:
 * an item is claimed with a lease (findOneAndUpdate, no projection: FerretDB-safe), and a crash
 * mid-processing only means the lease runs out and the item is claimed again. Handlers are
 * idempotent, so a replay does no harm twice. Order per subscriber: only the oldest open item of a
 * subscriber may be claimed.
 */
export function createInboxWorker(deps: Deps, handle: ItemHandler, opts: WorkerOptions = {}): InboxWorker {
  const { Inbox } = deps.models;
  const log = deps.log.child({ module: 'inbox' });
  const leaseMs = opts.leaseMs ?? 30_000;
  const concurrency = opts.concurrency ?? 8;
  const idleMs = opts.idleMs ?? 500;
  const maxAttempts = opts.maxAttempts ?? 8;
  const inHand = new Set<Promise<void>>();

  const claimable = (now: Date) => ({
    $or: [{ state: 'pending' }, { state: 'processing', leaseUntil: { $lt: now } }],
  });

  async function claim(id: string, now: Date) {
    return Inbox.findOneAndUpdate(
      { _id: id, ...claimable(now) },
      { $set: { state: 'processing', leaseUntil: new Date(now.getTime() + leaseMs) }, $inc: { attempts: 1 } },
      { returnDocument: 'after' },
    ).lean();
  }

  async function process(doc: NonNullable<Awaited<ReturnType<typeof claim>>>): Promise<void> {
    const item: ClaimedItem = {
      id: doc._id,
      field: doc.field,
      type: doc.type,
      subscriberKey: doc.subscriberKey ?? null,
      payload: JSON.parse(deps.pii.decrypt(doc.payloadEnc!, at('inbox', 'payloadEnc', doc._id))),
      attempts: doc.attempts,
      receivedAt: doc.receivedAt,
    };
    try {
      await handle(item);
      // By _id alone (FerretDB pushes down nothing else); marking done twice after a lost lease is harmless.
      await Inbox.updateOne({ _id: doc._id }, { $set: { state: 'done', processedAt: deps.clock.now(), leaseUntil: null, lastError: null } });
      deps.metrics.inboxProcessed.inc({ outcome: 'done' });
    } catch (err) {
      const failed = doc.attempts >= maxAttempts;
      // Retry later by letting a short lease stand; give up after maxAttempts so one poison item
      // does not block the subscriber's queue forever (staff see it as failed).
      const backoff = Math.min(60_000, 1000 * 2 ** doc.attempts);
      // Only an error code or class is stored: a message can quote personal data.
      const lastError = errorLabel(err);
      await Inbox.updateOne(
        { _id: doc._id },
        failed
          ? { $set: { state: 'failed', leaseUntil: null, lastError } }
          : { $set: { leaseUntil: new Date(deps.clock.now().getTime() + backoff), lastError } },
      ).catch(() => undefined);
      deps.metrics.inboxProcessed.inc({ outcome: failed ? 'failed' : 'retry' });
      log.error({ err, item: doc._id, attempts: doc.attempts, failed }, 'inbox item failed');
    }
  }

  /**
   * One pass: claim every head that is due and hand it to the handler. `wait` (tests, drains) waits
   * for what it claimed; the loop does not, so one slow item (a large MY DATA) never holds back
   * other subscribers' work: the next pass starts at once and finished items kick the loop.
   */
  async function runOnce(wait = true): Promise<number> {
    const now = deps.clock.now();
    // Every open item, oldest first: a subscriber's head is its oldest open item, and only a head
    // that is pending (or whose lease ran out) may be claimed.
    // Order: WhatsApp's timestamp (seconds) and position in the delivery; two deliveries in the
    // same second are taken in the order they arrived.
    const open = await Inbox.find({ state: { $in: ['pending', 'processing'] } }, { _id: 1, subscriberKey: 1, order: 1, state: 1, leaseUntil: 1 })
      .sort({ order: 1, receivedAt: 1 })
      .limit(5000)
      .lean();
    const claimableNow = headsOf(open, (c) => c.subscriberKey ?? `item:${c._id}`).filter((c) => c.state === 'pending' || (c.leaseUntil && c.leaseUntil < now));
    return claimAndWork({
      candidates: claimableNow.slice(0, 200),
      claim: (c) => claim(c._id, now),
      work: process,
      inHand,
      concurrency,
      stopping: () => loop.stopping,
      onSettled: () => loop.kick(),
      wait,
    });
  }

  const { loop, start, kick, stop } = workerLoop({
    pass: () => runOnce(false),
    refreshBacklog: async () => {
      deps.metrics.inboxBacklog.set(await Inbox.countDocuments({ state: { $in: ['pending', 'processing'] } }));
    },
    inHand,
    idleMs,
    onError: (err) => log.warn({ err }, 'inbox poll failed; retrying'),
  });

  return { runOnce, start, kick, stop };
}
