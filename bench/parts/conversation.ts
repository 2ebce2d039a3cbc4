import { randomBytes } from 'node:crypto';
import { localeOfNumber } from '../../src/chat/countryLocale';
import { createTranslator } from '../../src/i18n/i18n';
import { appEnv } from '../lib/env';
import { deliveryHeaders, textDelivery, waIdOf } from '../lib/deliveries';
import { GraphSink, type Arrival } from '../lib/graphSink';
import { openLoop } from '../lib/openLoop';
import { spawnChild, type ChildHandle } from '../lib/rpc';
import { ms, round, sleep, summarize, waitFor, type Summary } from '../lib/stats';
import { performance } from 'node:perf_hooks';
import { cpuUsageMs, processTreeCpuMs } from '../lib/cpu';
import { logFile, type BenchContext } from './context';
import type { CommandProfile } from '../lib/profiler';

/**
 * Conversations against the running product (workers on, Graph API faked on loopback): STOP and
 * START alternating per subscriber, sent open-loop at a fixed rate. Measures the webhook's ack
 * (POST sent → answer) and, per message, the time until its confirmation reaches the Graph API
 * (matched by recipient and order: the bot answers each person's messages in order).
 */
export interface PhaseResult {
  messages: number;
  subscribers: number;
  ratePerSecond: number;
  seconds: number;
  sendDurationS: number;
  generatorMaxLagMs: number;
  ack: Summary;
  ackStatuses: Record<string, number>;
  ackErrors: number;
  confirmation: Summary;
  confirmationsArrived: number;
  confirmationsExpected: number;
  /** Confirmations per second from the first send to the last arrival: what the pipeline achieved. */
  confirmationsPerSecond: number;
  drainTimeoutMs: number;
  wrongText: number;
  lastConfirmationAfterLastSendMs: number;
  /** Confirmation latency by 5-second window of send time (shows a growing backlog). */
  confirmationP99By5s: { fromS: number; p99: number; n: number }[];
}

export interface ConversationResult {
  sendRatePerSecond: number;
  drainTimeoutMs: number;
  /** Database commands of the app during the measured phase, grouped by shape (all; polling; the rest). */
  profile: CommandProfile;
  /** Average cores busy from the first send to the end of the wait for confirmations; appMs/databaseMs: CPU time used. */
  cpu: { app: number; database: number; generator: number; seconds: number; appMs?: number; databaseMs?: number };
  /**
   * Issue 16's cost figures, over the measured phase, divided by the confirmations that arrived
   * (each a STOP or a START and its confirmation: the two take the same path).
   */
  perConfirmation?: PerConfirmation;
  warmup: PhaseResult | null;
  measured: PhaseResult;
  serverAckHistogram: { le: string; share: number }[];
  backlogAfter: { inbox: number; inboxOpen: number; outboxOpen: number };
}

export interface PerConfirmation {
  confirmations: number;
  /** The app's database commands, the workers' polling excluded (profiler.ts pollingKind). */
  commandsExcludingPolling: number;
  pollingCommands: number;
  /** commandsExcludingPolling / confirmations */
  commands: number;
  /** pollingCommands / confirmations (shown, not counted) */
  polling: number;
  /** The app process's CPU time (user + system) / confirmations, ms. */
  appCpuMs: number;
  databaseCpuMs: number;
}

export async function runConversations(
  ctx: BenchContext,
  o: {
    name: string;
    ratePerSecond: number;
    seconds: number;
    subscribers: number;
    sendRate?: number;
    warmupSeconds: number;
    warmupRate: number;
    drainTimeoutMs: number;
  },
): Promise<ConversationResult> {
  const sink = await new GraphSink().start();
  const dbName = ctx.db.newDatabase(o.name);
  ctx.log(`${o.name}: starting the app with workers (child process), Graph API faked at ${sink.url}…`);
  const env = appEnv({ mongodbUri: ctx.db.uriFor(dbName), graphBaseUrl: sink.url, sendRate: o.sendRate });
  const child = await spawnChild<{ port: number }>('app', { env, workers: true, logFile: logFile(ctx, `${o.name}-app`), profile: true }, (l) =>
    ctx.log(`  [app] ${l}`),
  );
  const tr = createTranslator();
  const params = { business: env.BUSINESS_NAME, support: env.SUPPORT_CONTACT, policy: env.PRIVACY_POLICY_URL };
  // Replies come in the language of the number's country (src/chat/countryLocale.ts): waIdOf gives German numbers.
  const locale = localeOfNumber(waIdOf(0)) ?? 'en';
  const expected = { STOP: tr.t(locale, 'optOut.confirmed', params), START: tr.t(locale, 'optIn.confirmed', params) };
  const sendRate = o.sendRate ?? 80;
  try {
    let warmup: PhaseResult | null = null;
    if (o.warmupSeconds > 0) {
      ctx.log(`${o.name}: warm-up ${o.warmupSeconds} s at ${o.warmupRate}/s (other subscribers, not counted)…`);
      warmup = await phase(ctx, child, sink, expected, {
        ...o,
        ratePerSecond: o.warmupRate,
        seconds: o.warmupSeconds,
        subscriberBase: 900_000,
        label: `${o.name} warm-up`,
        drainTimeoutMs: 30_000,
      });
      await sleep(500);
    }
    ctx.log(
      `${o.name}: ${o.ratePerSecond} conversations/s for ${o.seconds} s, ${o.subscribers} subscribers, STOP/START alternating, SEND_RATE_PER_SECOND=${sendRate}…`,
    );
    await child.call('profileStart');
    const cpu0 = {
      app: cpuUsageMs(await child.call<NodeJS.CpuUsage>('cpu')),
      db: processTreeCpuMs(ctx.db.pids),
      generator: cpuUsageMs(process.cpuUsage()),
      at: performance.now(),
    };
    const measured = await phase(ctx, child, sink, expected, { ...o, subscriberBase: 0, label: o.name });
    const cpu1 = {
      app: cpuUsageMs(await child.call<NodeJS.CpuUsage>('cpu')),
      db: processTreeCpuMs(ctx.db.pids),
      generator: cpuUsageMs(process.cpuUsage()),
      at: performance.now(),
    };
    const wall = cpu1.at - cpu0.at;
    const cpu = {
      app: (cpu1.app - cpu0.app) / wall,
      database: (cpu1.db - cpu0.db) / wall,
      generator: (cpu1.generator - cpu0.generator) / wall,
      seconds: wall / 1000,
      appMs: cpu1.app - cpu0.app,
      databaseMs: cpu1.db - cpu0.db,
    };
    ctx.log(
      `${o.name}: CPU while measured (cores busy): app ${cpu.app.toFixed(2)}, database ${cpu.database.toFixed(2)}, load generator + fake Graph ${cpu.generator.toFixed(2)} over ${cpu.seconds.toFixed(0)} s`,
    );
    const profile = await child.call<ConversationResult['profile']>('profileStop');
    ctx.log(`${o.name}: database commands during the measured phase: ${profile.commands} taking ${ms(profile.totalMs)} in all; slowest in total:`);
    for (const c of profile.top.slice(0, 6)) ctx.log(`    ${c.count} × ${c.command}: mean ${ms(c.meanMs)}, max ${ms(c.maxMs)}, total ${ms(c.totalMs)}`);
    const confirmations = measured.confirmationsArrived;
    const work = profile.work?.commands ?? profile.commands;
    const pollingCommands = profile.polling?.commands ?? 0;
    const perConfirmation: PerConfirmation = {
      confirmations,
      commandsExcludingPolling: work,
      pollingCommands,
      commands: confirmations ? work / confirmations : NaN,
      polling: confirmations ? pollingCommands / confirmations : NaN,
      appCpuMs: confirmations ? cpu.appMs / confirmations : NaN,
      databaseCpuMs: confirmations ? cpu.databaseMs / confirmations : NaN,
    };
    ctx.log(
      `${o.name}: per confirmed conversation (${confirmations} confirmed): ${round(perConfirmation.commands, 2)} database commands, polling excluded ` +
        `(${work} commands; ${pollingCommands} polling commands besides, ${round(perConfirmation.polling, 2)} each); ` +
        `app CPU ${round(perConfirmation.appCpuMs, 2)} ms, database CPU ${round(perConfirmation.databaseCpuMs, 2)} ms`,
    );
    for (const c of profile.work?.shapes.slice(0, 8) ?? [])
      ctx.log(`    ${round(confirmations ? c.count / confirmations : NaN, 2)} per conversation: ${c.command} (${c.count}, mean ${ms(c.meanMs)})`);
    const metricsText = await child.call<string>('metrics');
    const backlogAfter = await child.call<ConversationResult['backlogAfter']>('counts');
    return {
      sendRatePerSecond: sendRate,
      drainTimeoutMs: o.drainTimeoutMs,
      warmup,
      measured,
      cpu,
      profile,
      perConfirmation,
      serverAckHistogram: ackHistogram(metricsText),
      backlogAfter,
    };
  } finally {
    await child.stop();
    await sink.stop();
  }
}

async function phase(
  ctx: BenchContext,
  child: ChildHandle<{ port: number }>,
  sink: GraphSink,
  expected: Record<'STOP' | 'START', string>,
  o: { ratePerSecond: number; seconds: number; subscribers: number; subscriberBase: number; label: string; drainTimeoutMs: number },
): Promise<PhaseResult> {
  const count = Math.round(o.ratePerSecond * o.seconds);
  const subscribers = Math.min(o.subscribers, count);
  const tag = randomBytes(3).toString('hex');
  const waIds = Array.from({ length: subscribers }, (_, s) => waIdOf(o.subscriberBase + s));
  const bySub = new Map<string, Arrival[]>(waIds.map((w) => [w, []]));
  let arrived = 0;
  sink.reset();
  sink.onArrival((a) => {
    const list = bySub.get(a.to);
    if (list) {
      list.push(a);
      arrived += 1;
    }
  });
  const keyword = (i: number) => (Math.floor(i / subscribers) % 2 === 0 ? 'STOP' : 'START');
  const run = await openLoop({
    port: child.info.port,
    ratePerSecond: o.ratePerSecond,
    count,
    make: (i) => {
      const d = textDelivery(waIds[i % subscribers], keyword(i), `wamid.BENCH${tag}${i.toString(36)}`);
      return { path: '/webhook', body: d.body, headers: deliveryHeaders(d) };
    },
    drainMs: 30_000,
  });
  const lastSend = run.sendAt[count - 1];
  await waitFor(() => arrived >= count, o.drainTimeoutMs, 50);

  const latencies: number[] = [];
  const windows = new Map<number, number[]>();
  let wrongText = 0;
  const t0 = run.sendAt[0];
  for (let i = 0; i < count; i++) {
    const s = i % subscribers;
    const k = Math.floor(i / subscribers);
    const a = bySub.get(waIds[s])![k];
    // A confirmation that did not arrive before the drain timeout counts as infinitely late.
    if (a && a.text !== expected[keyword(i)]) wrongText += 1;
    const l = a ? a.at - run.sendAt[i] : Infinity;
    latencies.push(l);
    const w = Math.floor((run.sendAt[i] - t0) / 5000) * 5;
    if (!windows.has(w)) windows.set(w, []);
    windows.get(w)!.push(l);
  }
  const allArrivals = [...bySub.values()].flat();
  const lastArrival = allArrivals.reduce((m, a) => Math.max(m, a.at), 0);
  const ack = summarize(run.latencyMs.filter((x) => Number.isFinite(x)));
  const confirmation = summarize(latencies);
  const r: PhaseResult = {
    messages: count,
    subscribers,
    ratePerSecond: o.ratePerSecond,
    seconds: o.seconds,
    sendDurationS: run.durationMs / 1000,
    generatorMaxLagMs: run.maxLagMs,
    ack,
    ackStatuses: run.statuses,
    ackErrors: run.errors,
    confirmation,
    confirmationsArrived: latencies.filter((x) => Number.isFinite(x)).length,
    confirmationsExpected: count,
    confirmationsPerSecond: lastArrival ? allArrivals.length / ((lastArrival - run.sendAt[0]) / 1000) : 0,
    drainTimeoutMs: o.drainTimeoutMs,
    wrongText,
    lastConfirmationAfterLastSendMs: lastArrival ? lastArrival - lastSend : NaN,
    confirmationP99By5s: [...windows.entries()].sort((x, y) => x[0] - y[0]).map(([fromS, l]) => ({ fromS, p99: summarize(l).p99, n: l.length })),
  };
  ctx.log(
    `${o.label}: ack p50 ${ms(ack.p50)} p99 ${ms(ack.p99)} max ${ms(ack.max)} (${JSON.stringify(run.statuses)}, ${run.errors} errors); ` +
      `confirmation p50 ${ms(confirmation.p50)} p99 ${ms(confirmation.p99)} max ${ms(confirmation.max)}; ${r.confirmationsArrived}/${count} arrived within ${ms(o.drainTimeoutMs)} of the last send, ${wrongText} wrong text; ` +
      `pipeline ${round(r.confirmationsPerSecond)} confirmations/s; generator lag max ${round(run.maxLagMs)} ms`,
  );
  return r;
}

/** Share of deliveries answered within each bucket of the app's own webhook_ack_seconds histogram. */
function ackHistogram(metrics: string): { le: string; share: number }[] {
  const buckets: { le: string; count: number }[] = [];
  let total = 0;
  for (const line of metrics.split('\n')) {
    const b = /^webhook_ack_seconds_bucket\{le="([^"]+)"\} (\d+)/.exec(line);
    if (b) buckets.push({ le: b[1], count: Number(b[2]) });
    const c = /^webhook_ack_seconds_count (\d+)/.exec(line);
    if (c) total = Number(c[1]);
  }
  return buckets.map((b) => ({ le: b.le, share: total ? b.count / total : NaN }));
}
