/**
 * Paces sends to a steady rate per business number (Meta's default throughput is 80 messages/s;
 * https://developers.facebook.com/docs/whatsapp/throughput). A token bucket.
 */
export interface RateLimiter {
  take(): Promise<void>;
}

export function createRateLimiter(perSecond: number): RateLimiter {
  // The bucket holds a tenth of a second's worth and starts empty but for one token, so no second
  // ever carries more than about perSecond + a tenth (a full bucket at start let 2× through).
  const capacity = Math.max(1, perSecond / 10);
  let tokens = 1;
  let last = Date.now();
  let queue = Promise.resolve();
  const refill = () => {
    const now = Date.now();
    tokens = Math.min(capacity, tokens + ((now - last) / 1000) * perSecond);
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
