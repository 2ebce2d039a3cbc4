import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Types } from 'mongoose';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import type { Models } from '../../src/store/models';
import type { Deps } from '../../src/deps';
import { createLogger } from '../../src/lib/logger';
import { at } from '../../src/privacy/pii';
import { confirmErasure, requestErasure } from '../../src/rights/erasure';
import { exportData } from '../../src/rights/exportData';
import type { Subscriber } from '../../src/store/subscriberStore';
import { progress } from '../lib/rpc';
import { waIdOf } from '../lib/deliveries';
import { openProfiledDeps, type CommandProfiler } from '../lib/profiler';

/**
 * Rights at scale (issue 5): one subscriber with `own` messages in a database holding `others`
 * messages of `otherSubscribers` other people; MY DATA (exportData) and DELETE (requestErasure +
 * confirmErasure, which runs the erasure job) are timed, with the process's peak memory and every
 * database command they issued (driver command monitoring) as evidence of where the time goes.
 */
export interface RightsOptions {
  env: Record<string, string>;
  logFile: string;
}

export interface RightsArgs {
  others: number;
  otherSubscribers: number;
  own: number;
  batch: number;
  exportRuns: number;
}

const SAMPLE_TEXTS = [
  'Hi, is my order on its way? The tracking page has not changed since Monday.',
  'Thanks! Could you also send the invoice to my email please?',
  'STOP',
  'Your order #48213 has shipped and should arrive on Thursday.',
  'Can I change the delivery address to my office?',
  'We are sorry for the delay. A voucher is attached to this message.',
  'MY DATA',
  'Great, thank you for the quick answer 🙂',
];

function readVmHWM(): number {
  const m = /^VmHWM:\s*(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

export function rightsHandlers(opts: RightsOptions) {
  let deps: Deps;
  let models: Models;
  let profiler: CommandProfiler;
  let close: (() => Promise<void>) | undefined;

  return {
    async init() {
      // The product's dependencies, with command monitoring for the evidence (bench/lib/profiler.ts).
      const p = await openProfiledDeps(loadConfig(opts.env), createLogger('warn', pino.destination({ dest: opts.logFile, sync: true, mkdir: true })));
      ({ deps, profiler, close } = p);
      ({ models } = deps);
      return { pid: process.pid, gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function' };
    },

    async run(a: unknown) {
      const args = a as RightsArgs;
      const seed = await seedDatabase(deps, args);
      const explain = await explainQueries(models, seed.ownId, seed.ownKey);

      const exports = [];
      for (let run = 1; run <= args.exportRuns; run++) {
        const s = (await models.Subscriber.findById(seed.ownId).lean()) as Subscriber;
        exports.push(await measure(`export ${run}`, () => exportData(deps.rights, s, { requestId: `bench-access-${run}-${Date.now()}`, channel: 'bench' })));
      }
      const exportDoc = await models.Export.findOne({ subscriberId: seed.ownId }, { contentEnc: 1 }).lean();

      const s1 = (await models.Subscriber.findById(seed.ownId).lean()) as Subscriber;
      const requestId = `bench-erasure-${Date.now()}`;
      const ask = await measure('erasure request', () => requestErasure(deps.rights, s1, { requestId, channel: 'bench' }));
      const s2 = (await models.Subscriber.findById(seed.ownId).lean()) as Subscriber;
      const erase = await measure('erasure confirm (runs the job)', () => confirmErasure(deps.rights, s2));

      // The erasure must have removed this person's data and nothing else: the delete's own count,
      // an exact count of what is left (after the timing: an estimated count or collStats can lag a
      // delete on some engines), and the profile.
      progress('checking the erasure…');
      const deletedMessages = erase.topCommands.find((c) => c.command.startsWith('delete messages'))?.docs ?? NaN;
      const messagesLeft = await models.Message.countDocuments({});
      const subscriberLeft = (await models.Subscriber.findById(seed.ownId, { _id: 1 }).lean()) ? 1 : 0;
      return {
        args,
        seed: seed.report,
        explain,
        exports: exports.map((e) => ({
          ...e,
          messagesInExport: (e.result as { replies?: { params?: { messages?: number } }[] })?.replies?.[0]?.params?.messages,
          result: undefined,
        })),
        exportBytesSealed: exportDoc?.contentEnc?.length ?? 0,
        erasureRequest: { ...ask, result: undefined },
        erasureConfirm: { ...erase, result: (erase.result as { kind?: string })?.kind },
        afterErasure: { deletedMessages, expectedDeleted: args.own, messagesLeft, expectedMessagesLeft: args.others, subscriberLeft },
      };
    },

    async stop() {
      await close?.().catch(() => undefined);
      setTimeout(() => process.exit(0), 100);
    },
  };

  /** Times one call; peak RSS (VmHWM after a reset), heap sampled every 5 ms, and its database commands. */
  async function measure<T>(label: string, fn: () => Promise<T>) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
    const before = process.memoryUsage();
    const peakReset = resetPeakRss();
    let heapPeak = before.heapUsed;
    let rssPeakSampled = before.rss;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      heapPeak = Math.max(heapPeak, m.heapUsed);
      rssPeakSampled = Math.max(rssPeakSampled, m.rss);
    }, 5);
    profiler.start();
    const t0 = performance.now();
    const result = await fn();
    const elapsedMs = performance.now() - t0;
    const commands = profiler.stop();
    clearInterval(sampler);
    const after = process.memoryUsage();
    heapPeak = Math.max(heapPeak, after.heapUsed);
    const rssPeak = peakReset ? readVmHWM() : Math.max(rssPeakSampled, after.rss);
    gc();
    const afterGc = process.memoryUsage();
    progress(
      `${label}: ${elapsedMs.toFixed(0)} ms (${commands.commands} db commands, ${commands.totalMs.toFixed(0)} ms in them), peak RSS ${(rssPeak / 1048576).toFixed(0)} MiB`,
    );
    return {
      label,
      elapsedMs,
      dbCommands: commands.commands,
      dbMs: commands.totalMs,
      memory: {
        rssBefore: before.rss,
        rssPeak,
        rssPeakMethod: peakReset ? 'VmHWM after clear_refs' : 'sampled every 5 ms',
        heapUsedBefore: before.heapUsed,
        heapUsedPeakSampled: heapPeak,
        heapUsedAfter: after.heapUsed,
        heapDelta: after.heapUsed - before.heapUsed,
        heapDeltaAfterGc: afterGc.heapUsed - before.heapUsed,
        externalPeakDelta: after.external - before.external,
      },
      topCommands: commands.top.slice(0, 12),
      result,
    };
  }
}

async function explainQueries(models: Models, ownId: Types.ObjectId, ownKey: string) {
  const out: Record<string, unknown> = {};
  const queries: [string, () => Promise<unknown>][] = [
    ['messages {subscriberId} sort {at}', () => models.Message.find({ subscriberId: ownId }).sort({ at: 1 }).explain()],
    ['consents {subscriberId} sort {at}', () => models.Consent.find({ subscriberId: ownId }).sort({ at: 1 }).explain()],
    ['requests {subscriberToken} sort {receivedAt}', () => models.Request.find({ subscriberToken: ownKey }).sort({ receivedAt: 1 }).explain()],
    ['inbox {subscriberKey: {$in}}', () => models.Inbox.find({ subscriberKey: { $in: [ownKey] } }).explain()],
    ['outbox {subscriberId}', () => models.Outbox.find({ subscriberId: ownId }).explain()],
    ['subscribers {_id}', () => models.Subscriber.find({ _id: ownId }).explain()],
  ];
  for (const [name, q] of queries) {
    try {
      const e = (await q()) as Record<string, unknown>;
      // FerretDB v1 reports whether the filter/sort reached the backend; MongoDB its winning plan.
      const qp = e.queryPlanner as Record<string, unknown> | undefined;
      out[name] = {
        filterPushdown: e.filterPushdown ?? e.pushdown,
        sortPushdown: e.sortPushdown,
        plan: qp?.winningPlan ? summarizePlan(qp.winningPlan) : qp ? JSON.stringify(qp).slice(0, 300) : undefined,
      };
    } catch (err) {
      out[name] = { error: (err as Error).message };
    }
  }
  return out;
}

function summarizePlan(plan: unknown): string {
  const stages: string[] = [];
  let p = plan as { stage?: string; indexName?: string; inputStage?: unknown } | undefined;
  while (p) {
    stages.push(p.indexName ? `${p.stage}(${p.indexName})` : String(p.stage));
    p = p.inputStage as typeof p;
  }
  return stages.join(' <- ');
}

/** Bulk seeding through the driver collections (bypassing mongoose), sealed like the app stores them. */
async function seedDatabase(deps: Deps, a: RightsArgs) {
  const { models, pii } = deps;
  const t0 = performance.now();
  const now = Date.now();
  const day = 86_400_000;

  // Other people: profiles, then their conversations round-robin.
  const otherIds: Types.ObjectId[] = [];
  const subs: { _id: Types.ObjectId; key: string; waIdEnc: string; [k: string]: unknown }[] = [];
  for (let i = 0; i < a.otherSubscribers; i++) {
    const _id = new Types.ObjectId();
    otherIds.push(_id);
    const waId = waIdOf(1_000_000 + i);
    subs.push({
      _id,
      key: deps.stores.subscribers.tokenOf({ waId }),
      bsuidKey: null,
      waIdEnc: pii.encrypt(waId, at('subscribers', 'waIdEnc', _id)),
      bsuidEnc: null,
      nameEnc: pii.encrypt(`Person ${i}`, at('subscribers', 'nameEnc', _id)),
      locale: 'en',
      consent: i % 3 === 0 ? 'opted_in' : 'none',
      consentAt: null,
      windowUntil: null,
      lastInboundAt: new Date(now - day),
      lastActivityAt: new Date(now - day),
      hintSentAt: null,
      pausedByStaff: false,
      pending: null,
      unanswered: false,
      createdAt: new Date(now - 60 * day),
    });
  }
  for (let i = 0; i < subs.length; i += a.batch) await models.Subscriber.collection.insertMany(subs.slice(i, i + a.batch) as never[], { ordered: false });
  const tSubs = performance.now();

  const message = (i: number, subscriberId: Types.ObjectId, prefix: string) => {
    const out = i % 2 === 1;
    const _id = `m_bench${prefix}${i.toString(36).padStart(9, '0')}`;
    return {
      _id,
      subscriberId,
      direction: out ? 'out' : 'in',
      kind: 'text',
      textEnc: pii.encrypt(SAMPLE_TEXTS[i % SAMPLE_TEXTS.length], at('messages', 'textEnc', _id)),
      intent: out ? null : 'unknown',
      by: out ? 'bot' : 'subscriber',
      status: out ? 'read' : null,
      at: new Date(now - 80 * day + i * 7),
    };
  };

  // Insert with one batch in flight while the next is built (encryption is CPU, the insert is I/O).
  async function bulk(count: number, make: (i: number) => object, insert: (docs: object[]) => Promise<unknown>, label: string) {
    const start = performance.now();
    let inFlight: Promise<unknown> = Promise.resolve();
    let lastReport = 0;
    for (let i = 0; i < count; i += a.batch) {
      const docs: object[] = [];
      for (let j = i; j < Math.min(count, i + a.batch); j++) docs.push(make(j));
      await inFlight;
      inFlight = insert(docs);
      if (i + a.batch - lastReport >= 100_000 || i + a.batch >= count) {
        lastReport = i + a.batch;
        const s = (performance.now() - start) / 1000;
        progress(
          `seeding ${label}: ${Math.min(count, i + a.batch).toLocaleString('en-US')} / ${count.toLocaleString('en-US')} (${s.toFixed(0)} s, ${Math.round(Math.min(count, i + a.batch) / s)} docs/s)`,
        );
      }
    }
    await inFlight;
    return performance.now() - start;
  }

  const othersMs = await bulk(
    a.others,
    (i) => message(i, otherIds[i % otherIds.length], 'O'),
    (docs) => models.Message.collection.insertMany(docs as never[], { ordered: false }),
    'other messages',
  );

  // Inbox (kept 7 days) and outbox (sent items stay) hold a fraction of the others' traffic too:
  // the erasure deletes from them by subscriber, so their size matters.
  const inboxCount = Math.round(a.others / 20);
  const inboxMs = await bulk(
    inboxCount,
    (i) => ({
      _id: `m_benchI${i.toString(36).padStart(9, '0')}`,
      field: 'messages',
      type: 'text',
      subscriberKey: subs[i % subs.length].key,
      payloadEnc: pii.encrypt(
        JSON.stringify({ field: 'messages', item: { from: '491700000000', type: 'text', text: { body: SAMPLE_TEXTS[i % SAMPLE_TEXTS.length] } } }),
        at('inbox', 'payloadEnc', `m_benchI${i.toString(36).padStart(9, '0')}`),
      ),
      order: now * 1000 + i,
      receivedAt: new Date(now - (i % 7) * day),
      state: 'done',
      leaseUntil: null,
      attempts: 1,
      lastError: null,
      processedAt: new Date(now - (i % 7) * day),
    }),
    (docs) => models.Inbox.collection.insertMany(docs as never[], { ordered: false }),
    'other inbox items',
  );
  const outboxCount = Math.round(a.others / 20);
  const outboxMs = await bulk(
    outboxCount,
    (i) => ({
      _id: `m_benchP${i.toString(36).padStart(9, '0')}:0`,
      subscriberId: otherIds[i % otherIds.length],
      toEnc: pii.encrypt(JSON.stringify({ phone: '+491700000000' }), at('outbox', 'toEnc', `m_benchP${i.toString(36).padStart(9, '0')}:0`)),
      bodyEnc: pii.encrypt(
        JSON.stringify({ type: 'text', text: { body: SAMPLE_TEXTS[i % SAMPLE_TEXTS.length] } }),
        at('outbox', 'bodyEnc', `m_benchP${i.toString(36).padStart(9, '0')}:0`),
      ),
      phoneNumberId: '100000000000001',
      category: 'rights',
      kind: 'text',
      state: 'sent',
      order: now * 100 + i,
      attempts: 1,
      nextAttemptAt: new Date(now - day),
      leaseUntil: null,
      graphKey: `g_bench${i}`,
      error: null,
      createdAt: new Date(now - day),
      sentAt: new Date(now - day),
      purgeAfterSend: false,
      mediaId: null,
    }),
    (docs) => models.Outbox.collection.insertMany(docs as never[], { ordered: false }),
    'other outbox items',
  );

  // The person exercising their rights.
  const ownId = new Types.ObjectId();
  const ownWaId = waIdOf(42);
  const ownKey = deps.stores.subscribers.tokenOf({ waId: ownWaId });
  await models.Subscriber.collection.insertOne({
    _id: ownId,
    key: ownKey,
    bsuidKey: null,
    waIdEnc: pii.encrypt(ownWaId, at('subscribers', 'waIdEnc', ownId)),
    bsuidEnc: null,
    nameEnc: pii.encrypt('Measured Person', at('subscribers', 'nameEnc', ownId)),
    locale: 'en',
    consent: 'opted_in',
    consentAt: new Date(now - 30 * day),
    windowUntil: new Date(now + day),
    lastInboundAt: new Date(now - 60_000),
    lastActivityAt: new Date(now - 60_000),
    hintSentAt: null,
    pausedByStaff: false,
    pending: null,
    unanswered: false,
    createdAt: new Date(now - 90 * day),
  } as never);
  const ownMs = await bulk(
    a.own,
    (i) => message(i, ownId, 'M'),
    (docs) => models.Message.collection.insertMany(docs as never[], { ordered: false }),
    'own messages',
  );
  await models.Consent.collection.insertMany(
    Array.from({ length: 20 }, (_, i) => ({
      _id: `bench-consent-${i}` as never,
      subscriberId: ownId,
      action: i % 2 ? 'withdraw' : 'grant',
      scope: 'marketing',
      source: 'keyword',
      detailEnc: null,
      at: new Date(now - (40 - i) * day),
    })),
  );
  await models.Inbox.collection.insertMany(
    Array.from({ length: 50 }, (_, i) => ({
      _id: `m_own-inbox-${i}` as never,
      field: 'messages',
      type: 'text',
      subscriberKey: ownKey,
      payloadEnc: pii.encrypt(
        JSON.stringify({ field: 'messages', item: { from: ownWaId, type: 'text', text: { body: 'hello' } } }),
        at('inbox', 'payloadEnc', `m_own-inbox-${i}`),
      ),
      order: now * 1000 + i,
      receivedAt: new Date(now - 3600_000),
      state: 'done',
      leaseUntil: null,
      attempts: 1,
      lastError: null,
      processedAt: new Date(now - 3600_000),
    })),
  );
  const totalMs = performance.now() - t0;
  const docs = a.otherSubscribers + a.others + inboxCount + outboxCount + a.own + 71;
  return {
    ownId,
    ownKey,
    report: {
      otherSubscribers: a.otherSubscribers,
      otherMessages: a.others,
      otherInbox: inboxCount,
      otherOutbox: outboxCount,
      ownMessages: a.own,
      batch: a.batch,
      seconds: {
        subscribers: (tSubs - t0) / 1000,
        otherMessages: othersMs / 1000,
        inbox: inboxMs / 1000,
        outbox: outboxMs / 1000,
        ownMessages: ownMs / 1000,
        total: totalMs / 1000,
      },
      messagesPerSecond: a.others / (othersMs / 1000),
      documents: docs,
    },
  };
}
