import { createRateLimiter } from '../../src/outbox/rateLimiter';

/** The most takes inside any window of `ms` (closed at both ends: the strictest reading). */
function maxInWindow(times: number[], ms: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end] - times[start] > ms) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

describe('the send rate limiter', () => {
  it.each([[80], [20]])('lets %i/s through, evenly, and never more than that in any second, even when everything asks at once', async (perSecond) => {
    const limiter = createRateLimiter(perSecond);
    const n = Math.round(perSecond * 2.5);
    const started = Date.now();
    // The times the limiter let each one through (what it promises; the bench measures arrivals end to end).
    const times = await Promise.all(Array.from({ length: n }, () => limiter.take()));
    times.sort((a, b) => a - b);
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(perSecond);
    // Close to the rate: all of them within the time the rate allows, plus timer slack.
    const elapsed = (times[times.length - 1] - started) / 1000;
    expect((n - 1) / elapsed).toBeGreaterThanOrEqual(perSecond * 0.9);
    // Evenly: no burst of more than a tenth of a second's worth in any 100 ms.
    expect(maxInWindow(times, 100)).toBeLessThanOrEqual(Math.ceil(perSecond / 10) + 1);
  });
});
