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

export interface PollingLoop {
  start(): void;
  kick(): void;
  /** Stops after the current pass; resolves when it has ended. */
  stop(): Promise<void>;
  readonly stopping: boolean;
}

export function createPollingLoop(
  pass: () => Promise<number>,
  opts: { idleMs: number; onError: (err: unknown) => void; nextDueInMs?: () => number | undefined },
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
          if (n === 0 && running && !kicked) {
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
    { idleMs: o.idleMs, onError: o.onError, nextDueInMs: o.nextDueInMs },
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

/**
 * A leased queue worker. Each pass reads a bounded window of the oldest open items (never the whole
 * backlog), takes each key's head (a person's oldest open item: their earlier item always sorts
 * before their later one, so per-person order holds within any window of the oldest), claims the
 * heads that are due and hands what it won to `work`. `runOnce(wait)` with `wait` (tests, drains)
 * waits for what it claimed; the loop does not, so one slow item never holds back others: finished
 * items kick the loop, and it sleeps until the earliest head not yet due (a retry, a lease).
 */
export function queueWorker<C, D>(o: {
  now: () => Date;
  /** The oldest open items, in queue order, at most `limit`. */
  window: (limit: number) => Promise<C[]>;
  windowSize: number;
  keyOf: (c: C) => string;
  /** When an open item may be claimed (a pending item: now; one in hand: when its lease runs out). */
  dueAt: (c: C) => Date;
  claim: (c: C, now: Date) => Promise<D | null>;
  work: (d: D) => Promise<void>;
  concurrency: number;
  idleMs: number;
  refreshBacklog: () => Promise<void>;
  onError: (err: unknown) => void;
}) {
  const inHand = new Set<Promise<void>>();
  let nextDue: number | undefined;
  async function runOnce(wait = true): Promise<number> {
    const now = o.now();
    const heads = headsOf(await o.window(o.windowSize), o.keyOf);
    const later = heads.map((c) => o.dueAt(c).getTime()).filter((t) => t > now.getTime());
    nextDue = later.length ? Math.min(...later) - now.getTime() : undefined;
    const candidates = heads.filter((c) => o.dueAt(c) <= now);
    const stopping = () => loop.stopping;
    return claimAndWork({
      candidates,
      claim: (c) => o.claim(c, now),
      work: o.work,
      inHand,
      concurrency: o.concurrency,
      stopping,
      onSettled: () => loop.kick(),
      wait,
    });
  }
  const { loop, start, kick, stop } = workerLoop({
    pass: () => runOnce(false),
    refreshBacklog: o.refreshBacklog,
    inHand,
    idleMs: o.idleMs,
    onError: o.onError,
    nextDueInMs: () => nextDue,
  });
  return { runOnce, start, kick, stop };
}
