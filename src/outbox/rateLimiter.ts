/**
 * Paces sends to a steady rate per business number (Meta's default throughput is 80 messages/s;
 * research §3). A token bucket with a burst of one second's worth.
 */
export interface RateLimiter {
  take(): Promise<void>;
}

export function createRateLimiter(perSecond: number): RateLimiter {
  let tokens = perSecond;
  let last = Date.now();
  let queue = Promise.resolve();
  const refill = () => {
    const now = Date.now();
    tokens = Math.min(perSecond, tokens + ((now - last) / 1000) * perSecond);
    last = now;
  };
  return {
    take() {
      // Serialise waiters so the rate holds under concurrency.
      const turn = queue.then(async () => {
        refill();
        while (tokens < 1) {
          await new Promise((r) => setTimeout(r, Math.ceil(((1 - tokens) / perSecond) * 1000)));
          refill();
        }
        tokens -= 1;
      });
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}
