import { claimAndWork, headsOf } from './heads';
/**
 * The loop of a background worker: run a pass; when it found nothing, sleep until kicked (work was
 * just written in this process: the webhook stored an item, a reply was queued, an item finished),
 * until the next piece of work it knows of falls due (`nextDueInMs`: a retry, a lease running out),
 * or until `idleMs` passed (the slow fallback for work written by another replica). Idle, a worker
 * costs one query per `idleMs`.
 */
/**
 * The fallback poll of the queue workers: work stored by this process wakes them at once
 * (workers.ts, the 'inbox' and 'outbox' notices); this is how other replicas' work is found.
 */
export const IDLE_POLL_MS = 2000;

/** The pause between two passes of a busy queue worker (it adds at most this to a reply's latency). */
export const BUSY_GAP_MS = 20;

export interface PollingLoop {
  start(): void;
  kick(): void;
  /** Stops after the current pass; resolves when it has ended. */
  stop(): Promise<void>;
  readonly stopping: boolean;
  /** Started and not stopping. */
  readonly running: boolean;
}

export function createPollingLoop(
  pass: () => Promise<number>,
  opts: { idleMs: number; onError: (err: unknown) => void; nextDueInMs?: () => number | undefined; busyGapMs?: number },
): PollingLoop {
  let running = false;
  let started = false;
  let wake: (() => void) | undefined;
  let kicked = false; // a kick that came during a pass: skip the next sleep
  let loop: Promise<void> | undefined;
  return {
    get stopping() {
      return started && !running;
    },
    get running() {
      return running;
    },
    start() {
      if (running) return;
      running = true;
      started = true;
      loop = (async () => {
        while (running) {
          let n = 0;
          kicked = false;
          try {
            n = await pass();
          } catch (err) {
            opts.onError(err);
          }
          if ((n > 0 || kicked) && running && opts.busyGapMs) {
            // Busy: a short gap lets the kicks of several finished or stored items share one pass
            // (one window read for many items instead of one each).
            await new Promise<void>((resolve) => setTimeout(resolve, opts.busyGapMs));
          } else if (n === 0 && running && !kicked) {
            await new Promise<void>((resolve) => {
              const due = opts.nextDueInMs?.();
              const sleep = setTimeout(resolve, due === undefined ? opts.idleMs : Math.max(10, Math.min(opts.idleMs, due)));
              // Woken early: the sleep's timer goes too (a stale one would keep a stopped process alive).
              wake = () => {
                clearTimeout(sleep);
                resolve();
              };
            });
          }
        }
      })();
    },
    kick() {
      kicked = true;
      wake?.();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}

/** Runs `fn` at most once per `ms` (e.g. refreshing a backlog gauge from a busy loop). */
export function throttle(fn: () => Promise<void>, ms: number): () => Promise<void> {
  let last = 0;
  return async () => {
    if (Date.now() - last < ms) return;
    last = Date.now();
    await fn();
  };
}

/**
 * The lifecycle both queue workers share: a polling loop over `pass`, a backlog gauge refreshed at
 * most every 5 s, and a stop that lets the items in hand finish.
 */
export function workerLoop(o: {
  pass: () => Promise<number>;
  refreshBacklog: () => Promise<void>;
  inHand: Set<Promise<void>>;
  idleMs: number;
  onError: (err: unknown) => void;
  nextDueInMs?: () => number | undefined;
}) {
  const refresh = throttle(o.refreshBacklog, 5000);
  const loop = createPollingLoop(
    async () => {
      const n = await o.pass();
      await refresh();
      return n;
    },
    { idleMs: o.idleMs, onError: o.onError, nextDueInMs: o.nextDueInMs, busyGapMs: BUSY_GAP_MS },
  );
  return {
    loop,
    start: () => loop.start(),
    kick: () => loop.kick(),
    async stop() {
      await loop.stop();
      await Promise.allSettled([...o.inHand]);
    },
  };
}

/** Items handed over in this process wait at most this many at a time, and this long (the rest take the usual path). */
const MAX_OFFERED = 10_000;
/** Items written into a worker's hand wait at most this many times its concurrency (queueWorker reserve). */
export const HAND_OVER_DEPTH = 8;
const OFFER_KEPT_MS = 60_000;

/**
 * A leased queue worker. Each pass reads a bounded window of the oldest open items (never the whole
 * backlog), takes each key's head (a person's oldest open item: their earlier item always sorts
 * before their later one, so per-person order holds within any window of the oldest), claims the
 * heads that are due and hands what it won to `work`. `runOnce(wait)` with `wait` (tests, drains)
 * waits for what it claimed; the loop does not, so one slow item never holds back others: finished
 * items kick the loop, and it sleeps until the earliest head not yet due (a retry, a lease).
 *
 * Items this process has just written are `offer`ed with their full document: when such an item is
 * a head, winning its claim is enough, with no second round trip to load and lease it
 * (`claimOffered`); the window still decides order. A claim another replica won is not tried again
 * until its lease could have run out.
 */
export function queueWorker<C, D>(o: {
  now: () => Date;
  /** The oldest open items, in queue order, at most `limit`. */
  window: (limit: number) => Promise<C[]>;
  windowSize: number;
  idOf: (c: C | D) => string;
  keyOf: (c: C) => string;
  /** When an open item may be claimed (a pending item: now; one in hand: when its lease runs out). */
  dueAt: (c: C) => Date;
  claim: (c: C, now: Date) => Promise<D | null>;
  /** Claims an item offered in this process, as it was written (null: not fresh any more, or lost). */
  claimOffered?: (seen: C, offered: D, now: Date) => Promise<D | null>;
  /**
   * An offered item written already leased to this worker (lib/handOver.ts): 'take' while it is
   * still as written and most of its lease is ahead (this worker's without a claim); 'claim' when
   * it is as written but its lease is running down (claimed now, as the next generation, rather
   * than left to run out); null when it moved on (someone else's lease, or finished).
   */
  inHandAsWritten?: (seen: C, offered: D, now: Date) => 'take' | 'claim' | null;
  /** Gives back an item written into this worker's hand that it did not start (stopping). */
  release?: (offered: D, now: Date) => Promise<void>;
  leaseMs: number;
  work: (d: D) => Promise<void>;
  concurrency: number;
  idleMs: number;
  refreshBacklog: () => Promise<void>;
  onError: (err: unknown) => void;
}) {
  const inHand = new Set<Promise<void>>();
  const held = new Set<string>();
  const lostUntil = new Map<string, number>();
  // What was offered, with when: an item another replica finished first never comes up here, so it is dropped after a while.
  const offered = new Map<string, { d: D; at: number }>();
  let nextDue: number | undefined;
  // Ids a write is about to hand over (reserved before the write, so a burst cannot overfill the hand).
  const promised = new Map<string, number>();
  // Written into this worker's hand and not moved since: its to work on, with or without a claim.
  const asWritten = (c: C, now: Date) => {
    const mine = offered.get(o.idOf(c))?.d;
    return mine !== undefined && o.inHandAsWritten ? o.inHandAsWritten(c, mine, now) : null;
  };
  async function claimOne(c: C, now: Date): Promise<D | null> {
    const id = o.idOf(c);
    const mine = offered.get(id)?.d;
    const inHandNow = asWritten(c, now);
    offered.delete(id);
    if (mine && inHandNow === 'take') {
      held.add(id);
      return mine;
    }
    const d = inHandNow === 'claim' ? await o.claim(c, now) : mine && o.claimOffered ? await o.claimOffered(c, mine, now) : await o.claim(c, now);
    if (d) held.add(id);
    else lostUntil.set(id, now.getTime() + o.leaseMs);
    return d;
  }
  async function runOnce(wait = true): Promise<number> {
    const now = o.now();
    for (const [id, until] of lostUntil) if (until <= now.getTime()) lostUntil.delete(id);
    // Oldest first (insertion order): stop at the first one still fresh.
    for (const [id, entry] of offered) {
      if (entry.at >= Date.now() - OFFER_KEPT_MS) break;
      offered.delete(id);
    }
    for (const [id, at] of promised) {
      if (at >= Date.now() - OFFER_KEPT_MS) break;
      promised.delete(id);
    }
    const heads = headsOf(await o.window(o.windowSize), o.keyOf);
    const later = heads.map((c) => o.dueAt(c).getTime()).filter((t) => t > now.getTime());
    // A claim lost to another replica is looked at again when its lease could have run out.
    for (const until of lostUntil.values()) later.push(until);
    nextDue = later.length ? Math.min(...later) - now.getTime() : undefined;
    const candidates = heads.filter((c) => (o.dueAt(c) <= now || asWritten(c, now) !== null) && !held.has(o.idOf(c)) && !lostUntil.has(o.idOf(c)));
    const stopping = () => loop.stopping;
    return claimAndWork({
      candidates,
      // The time of the claim itself: a pass may wait for a free place before claiming the rest.
      claim: (c) => claimOne(c, o.now()),
      work: (d) => o.work(d).finally(() => held.delete(o.idOf(d))),
      inHand,
      concurrency: o.concurrency,
      stopping,
      onSettled: () => loop.kick(),
      wait,
    });
  }
  const {
    loop,
    start,
    kick,
    stop: stopLoop,
  } = workerLoop({
    pass: () => runOnce(false),
    refreshBacklog: o.refreshBacklog,
    inHand,
    idleMs: o.idleMs,
    onError: o.onError,
    nextDueInMs: () => nextDue,
  });
  /** Items just written by this process, as written: they are claimed without being read again. */
  const offer = (items: D[]) => {
    for (const d of items) promised.delete(o.idOf(d));
    if (loop.stopping) {
      // Stopped meanwhile: what was written into its hand goes back at once.
      if (o.release) for (const d of items) void o.release(d, o.now()).catch(o.onError);
      return;
    }
    for (const d of items) if (offered.size < MAX_OFFERED) offered.set(o.idOf(d), { d, at: Date.now() });
    kick();
  };
  /**
   * Reserves places in this worker's hand for items about to be written (lib/handOver.ts): only
   * while it runs and is not far behind (what it holds, was handed and was promised stays within
   * HAND_OVER_DEPTH times what it works on at once: a few seconds of work), so an item written into
   * its hand is started well within its lease; otherwise the items are written open, for whichever
   * replica is free. `offer` or `forgo` ends a reservation.
   */
  const reserve = (ids: string[]) => {
    if (!loop.running || offered.size + inHand.size + promised.size + ids.length > HAND_OVER_DEPTH * o.concurrency) return false;
    for (const id of ids) promised.set(id, Date.now());
    return true;
  };
  const forgo = (ids: string[]) => ids.forEach((id) => promised.delete(id));
  async function stop() {
    await loop.stop();
    // What was written into this worker's hand and not started goes back to the queue at once,
    // before the items in hand finish (the process may be made to exit before they do).
    const left = [...offered.values()].map((e) => e.d);
    offered.clear();
    if (o.release) await Promise.allSettled(left.map((d) => o.release!(d, o.now())));
    await stopLoop();
  }
  return { runOnce, start, kick, stop, offer, reserve, forgo };
}
