import { performance } from 'node:perf_hooks';
import { createRateLimiter } from '../../src/outbox/rateLimiter';
import { appEnv } from '../lib/env';
import { GraphSink } from '../lib/graphSink';
import { spawnChild } from '../lib/rpc';
import { ms, round, waitFor } from '../lib/stats';
import type { CommandStat } from '../lib/profiler';
import { envInt, logFile, type BenchContext } from './context';

/**
 * Part 4 — send rate: 1,000 queued messages to distinct subscribers, sent by the real outbox worker
 * to the fake Graph API with SEND_RATE_PER_SECOND at its default. Achieved rate from the arrival
 * times at the fake Graph API.
 */
export interface SendRateResult {
  messages: number;
  configuredPerSecond: number;
  queueSeconds: number;
  arrived: number;
  firstToLastS: number;
  /** (n - 1) / (last - first): the mean rate over the whole burst. */
  meanPerSecond: number;
  /** Rate after the first second (the token bucket starts full: one second's worth may go at once). */
  steadyPerSecond: number;
  /** Most sends seen in any sliding 1-second window. */
  maxIn1s: number;
  /** Sends per whole second after the start. */
  perSecond: number[];
  outboxAfter: Record<string, number>;
  /** src/outbox/rateLimiter.ts alone (no database, no HTTP): n concurrent take() calls. */
  limiterAlone: { takes: number; firstToLastS: number; meanPerSecond: number; steadyPerSecond: number; maxIn1s: number; perSecond: number[] };
  profile: { commands: number; totalMs: number; top: CommandStat[] };
}

export async function runSendRate(ctx: BenchContext): Promise<SendRateResult> {
  const n = envInt(ctx.env, 'BENCH_SEND_MESSAGES', 1000);
  const sink = await new GraphSink().start();
  const dbName = ctx.db.newDatabase('sendrate');
  const child = await spawnChild<{ ratePerSecond: number }>(
    'sendrate',
    { env: appEnv({ mongodbUri: ctx.db.uriFor(dbName), graphBaseUrl: sink.url }), logFile: logFile(ctx, 'sendrate') },
    (l) => ctx.log(`  [sendrate] ${l}`),
  );
  try {
    const configured = child.info.ratePerSecond;
    ctx.log(`sendrate: queueing ${n} messages to distinct subscribers (SEND_RATE_PER_SECOND=${configured})…`);
    const { queueMs } = await child.call<{ queueMs: number }>('seed', { count: n });
    ctx.log('sendrate: starting the workers…');
    await child.call('start');
    await waitFor(() => sink.arrivals.length >= n, envInt(ctx.env, 'BENCH_SEND_TIMEOUT_SECONDS', 60) * 1000, 50);
    const { times, first, last, maxIn1s, steady, perSecond } = rates(sink.arrivals.map((a) => a.at));
    const { byState: outboxAfter, profile } = await child.call<{ byState: Record<string, number>; profile: SendRateResult['profile'] }>('outcome');
    await child.stop();
    ctx.log(`sendrate: the rate limiter alone (src/outbox/rateLimiter.ts, ${n} concurrent take() calls, no database)…`);
    const limiter = createRateLimiter(configured);
    const takeTimes = await Promise.all(Array.from({ length: n }, () => limiter.take().then(() => performance.now())));
    const l = rates(takeTimes);
    const limiterAlone = {
      takes: n,
      firstToLastS: (l.last - l.first) / 1000,
      meanPerSecond: (n - 1) / ((l.last - l.first) / 1000),
      steadyPerSecond: l.steady,
      maxIn1s: l.maxIn1s,
      perSecond: l.perSecond,
    };
    ctx.log(
      `sendrate: limiter alone: ${n} takes in ${round(limiterAlone.firstToLastS, 2)} s, mean ${round(limiterAlone.meanPerSecond)}/s, after the first second ${round(l.steady)}/s, max ${l.maxIn1s} in any 1 s window; per second: ${l.perSecond.join(' ')}`,
    );
    const r: SendRateResult = {
      messages: n,
      configuredPerSecond: configured,
      queueSeconds: queueMs / 1000,
      arrived: times.length,
      firstToLastS: (last - first) / 1000,
      meanPerSecond: (times.length - 1) / ((last - first) / 1000),
      steadyPerSecond: steady,
      maxIn1s,
      perSecond,
      outboxAfter,
      profile,
      limiterAlone,
    };
    ctx.log(
      `sendrate: ${r.arrived}/${n} sent in ${round(r.firstToLastS, 2)} s: mean ${round(r.meanPerSecond)}/s, after the first second ${round(r.steadyPerSecond)}/s, ` +
        `max ${r.maxIn1s} in any 1 s window (configured ${configured}/s); per second: ${r.perSecond.join(' ')}`,
    );
    ctx.log(`sendrate: database commands while sending: ${profile.commands} taking ${ms(profile.totalMs)}; slowest in total:`);
    for (const c of profile.top.slice(0, 6)) ctx.log(`    ${c.count} × ${c.command}: mean ${ms(c.meanMs)}, max ${ms(c.maxMs)}, total ${ms(c.totalMs)}`);
    return r;
  } finally {
    await child.stop();
    await sink.stop();
  }
}

function rates(unsorted: number[]) {
  const times = [...unsorted].sort((a, b) => a - b);
  const first = times[0];
  const last = times[times.length - 1];
  let maxIn1s = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= 1000) j++;
    maxIn1s = Math.max(maxIn1s, i - j + 1);
  }
  const afterFirstSecond = times.filter((t) => t - first >= 1000);
  const steady =
    afterFirstSecond.length > 1 ? (afterFirstSecond.length - 1) / ((afterFirstSecond[afterFirstSecond.length - 1] - afterFirstSecond[0]) / 1000) : NaN;
  const perSecond: number[] = [];
  for (const t of times) {
    const s = Math.floor((t - first) / 1000);
    perSecond[s] = (perSecond[s] ?? 0) + 1;
  }
  return { times, first, last, maxIn1s, steady, perSecond: Array.from(perSecond, (x) => x ?? 0) };
}
