import { claimAndWork } from './heads';
/**
 * The loop of a background worker: run a pass; when it found nothing, sleep until kicked (work was
 * just written in this process) or until `idleMs` passed (work written by another replica).
 */
export interface PollingLoop {
  start(): void;
  kick(): void;
  /** Stops after the current pass; resolves when it has ended. */
  stop(): Promise<void>;
  readonly stopping: boolean;
}

export function createPollingLoop(pass: () => Promise<number>, opts: { idleMs: number; onError: (err: unknown) => void }): PollingLoop {
  let running = false;
  let started = false;
  let wake: (() => void) | undefined;
  let kicked = false; // a kick that came during a pass: skip the next sleep
  let timer: NodeJS.Timeout | undefined;
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
              wake = resolve;
              timer = setTimeout(resolve, opts.idleMs);
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
      if (timer) clearTimeout(timer);
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
}) {
  const refresh = throttle(o.refreshBacklog, 5000);
  const loop = createPollingLoop(
    async () => {
      const n = await o.pass();
      await refresh();
      return n;
    },
    { idleMs: o.idleMs, onError: o.onError },
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
 * A leased queue worker: each pass picks the candidates due now, claims them one by one and hands
 * what it won to `work`. `runOnce(wait)` with `wait` (tests, drains) waits for what it claimed; the
 * loop does not, so one slow item never holds back others: the next pass starts at once and
 * finished items kick the loop.
 */
export function queueWorker<C, D>(o: {
  now: () => Date;
  candidates: (now: Date) => Promise<C[]>;
  claim: (c: C, now: Date) => Promise<D | null>;
  work: (d: D) => Promise<void>;
  concurrency: number;
  idleMs: number;
  refreshBacklog: () => Promise<void>;
  onError: (err: unknown) => void;
}) {
  const inHand = new Set<Promise<void>>();
  async function runOnce(wait = true): Promise<number> {
    const now = o.now();
    const candidates = await o.candidates(now);
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
  });
  return { runOnce, start, kick, stop };
}
