import type { Deps } from '../deps';
import { createPollingLoop, throttle } from '../lib/pollingLoop';
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

  async function isHead(key: string | null, order: number, id: string): Promise<boolean> {
    if (!key) return true;
    const earlier = await Inbox.findOne(
      { subscriberKey: key, order: { $lt: order }, state: { $in: ['pending', 'processing'] }, _id: { $ne: id } },
      { _id: 1 },
    ).lean();
    return !earlier;
  }

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
      payload: JSON.parse(deps.pii.decrypt(doc.payloadEnc)),
      attempts: doc.attempts,
      receivedAt: doc.receivedAt,
    };
    try {
      await handle(item);
      await Inbox.updateOne({ _id: doc._id, state: 'processing' }, { $set: { state: 'done', processedAt: deps.clock.now(), leaseUntil: null, lastError: null } });
      deps.metrics.inboxProcessed.inc({ outcome: 'done' });
    } catch (err) {
      const failed = doc.attempts >= maxAttempts;
      // Retry later by letting a short lease stand; give up after maxAttempts so one poison item
      // does not block the subscriber's queue forever (staff see it as failed).
      const backoff = Math.min(60_000, 1000 * 2 ** doc.attempts);
      await Inbox.updateOne(
        { _id: doc._id },
        failed
          ? { $set: { state: 'failed', leaseUntil: null, lastError: String((err as Error).message).slice(0, 200) } }
          : { $set: { leaseUntil: new Date(deps.clock.now().getTime() + backoff), lastError: String((err as Error).message).slice(0, 200) } },
      ).catch(() => undefined);
      deps.metrics.inboxProcessed.inc({ outcome: failed ? 'failed' : 'retry' });
      log.error({ err, item: doc._id, attempts: doc.attempts, failed }, 'inbox item failed');
    }
  }

  async function runOnce(): Promise<number> {
    const now = deps.clock.now();
    const candidates = await Inbox.find(claimable(now), { _id: 1, subscriberKey: 1, order: 1 }).sort({ order: 1 }).limit(100).lean();
    const seen = new Set<string>();
    const batch: Promise<void>[] = [];
    let handled = 0;
    for (const c of candidates) {
      if (loop.stopping) break;
      const key = c.subscriberKey ?? `item:${c._id}`;
      if (seen.has(key)) continue; // a later item of a subscriber waits for the earlier one
      seen.add(key);
      if (!(await isHead(c.subscriberKey ?? null, c.order, c._id))) continue;
      const doc = await claim(c._id, now);
      if (!doc) continue; // another replica was faster
      handled += 1;
      const p = process(doc).finally(() => inHand.delete(p));
      inHand.add(p);
      batch.push(p);
      if (inHand.size >= concurrency) await Promise.race([...inHand]);
    }
    await Promise.all(batch);
    return handled;
  }

  const refreshBacklog = throttle(async () => {
    deps.metrics.inboxBacklog.set(await Inbox.countDocuments({ state: { $in: ['pending', 'processing'] } }));
  }, 5000);
  const loop = createPollingLoop(
    async () => {
      const n = await runOnce();
      await refreshBacklog();
      return n;
    },
    { idleMs, onError: (err) => log.warn({ err }, 'inbox poll failed; retrying') },
  );

  return {
    runOnce,
    start() {
      loop.start();
    },
    kick() {
      loop.kick();
    },
    async stop() {
      await loop.stop();
      await Promise.allSettled([...inHand]);
    },
  };
}
