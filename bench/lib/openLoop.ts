import http from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * Open-loop load: request i is sent at start + i / rate, whatever happened to the earlier ones
 * (a slow answer never delays the next send, unlike a closed loop of connections, and unlike
 * autocannon's overallRate, which releases each second's quota as a burst at the top of the second
 * and waits for answers per connection). Keep-alive sockets, as many as needed.
 */
export interface OpenLoopRequest {
  path: string;
  body: string;
  headers: Record<string, string>;
}

export interface OpenLoopResult {
  sent: number;
  answered: number;
  statuses: Record<string, number>;
  errors: number;
  /** Per request, in send order: send time (performance.now()), latency ms (NaN if no answer), status. */
  sendAt: number[];
  latencyMs: number[];
  status: number[];
  /** How late sends left compared to their schedule (the generator's own delay), ms. */
  maxLagMs: number;
  durationMs: number;
}

export async function openLoop(o: {
  port: number;
  ratePerSecond: number;
  count: number;
  make: (i: number) => OpenLoopRequest;
  /** Called right before request i is written (with its send time). */
  onSend?: (i: number, at: number) => void;
  /** How long to wait for the last answers after the last send. */
  drainMs?: number;
}): Promise<OpenLoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  const interval = 1000 / o.ratePerSecond;
  const sendAt = new Array<number>(o.count).fill(NaN);
  const latencyMs = new Array<number>(o.count).fill(NaN);
  const status = new Array<number>(o.count).fill(0);
  const statuses: Record<string, number> = {};
  let answered = 0;
  let errors = 0;
  let maxLagMs = 0;
  let allAnswered: () => void = () => undefined;
  const done = new Promise<void>((r) => (allAnswered = r));
  const settle = () => {
    if (answered + errors === o.count) allAnswered();
  };

  const fire = (i: number) => {
    const r = o.make(i);
    const req = http.request(
      { host: '127.0.0.1', port: o.port, method: 'POST', path: r.path, agent, headers: { ...r.headers, 'content-length': Buffer.byteLength(r.body) } },
      (res) => {
        res.resume();
        res.on('end', () => {
          latencyMs[i] = performance.now() - sendAt[i];
          status[i] = res.statusCode ?? 0;
          statuses[String(status[i])] = (statuses[String(status[i])] ?? 0) + 1;
          answered += 1;
          settle();
        });
      },
    );
    req.on('error', () => {
      errors += 1;
      settle();
    });
    sendAt[i] = performance.now();
    o.onSend?.(i, sendAt[i]);
    req.end(r.body);
  };

  const start = performance.now();
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < o.count && start + next * interval <= now) {
        maxLagMs = Math.max(maxLagMs, now - (start + next * interval));
        fire(next);
        next += 1;
      }
      if (next >= o.count) return resolve();
      setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
    };
    tick();
  });
  const durationMs = performance.now() - start;
  await Promise.race([done, new Promise((r) => setTimeout(r, o.drainMs ?? 30_000))]);
  agent.destroy();
  return { sent: o.count, answered, statuses, errors, sendAt, latencyMs, status, maxLagMs, durationMs };
}
