/**
 * Paces sends to a steady rate per business number (Meta's default throughput is 80 messages/s;
 * https://developers.facebook.com/docs/whatsapp/throughput): evenly spaced, and never more than
 * `perSecond` in any one-second window (a token bucket lets its capacity through on top of the
 * rate: 81 in a first second was measured, docs/benchmarks.md).
 */
export interface RateLimiter {
  /** Resolves when a send may go, with the time (ms) it was let through. */
  take(): Promise<number>;
}

const JITTER_MS = 50;

export function createRateLimiter(perSecond: number, now: () => number = Date.now): RateLimiter {
  const interval = 1000 / perSecond;
  const perWindow = Math.max(1, Math.floor(perSecond));
  // When the last `perWindow` sends went, oldest first: the next may go only more than 1 s after the oldest.
  const recent: number[] = [];
  let next = 0;
  let queue: Promise<unknown> = Promise.resolve();
  return {
    take() {
      // Serialised, so the rate holds under concurrency.
      const turn = queue.then(async () => {
        for (;;) {
          const t = now();
          // The window is kept a little wider than a second: sends let through on time reach Meta with a few
          // milliseconds of jitter, and two of them must not land in the same second there.
          const window = recent.length >= perWindow ? recent[0] + 1000 + JITTER_MS - t : -1;
          const wait = Math.max(next - t, window >= 0 ? window + 1 : -1);
          if (wait <= 0) {
            recent.push(t);
            if (recent.length > perWindow) recent.shift();
            // On schedule (a late timer does not push every later send back); after an idle spell, from now.
            next = t - next > interval ? t + interval : next + interval;
            return t;
          }
          await new Promise((r) => setTimeout(r, Math.ceil(wait)));
        }
      });
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}
