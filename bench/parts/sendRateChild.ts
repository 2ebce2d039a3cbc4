import { performance } from 'node:perf_hooks';
import { Types } from 'mongoose';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { renderReply } from '../../src/messages/renderReply';
import { createLogger } from '../../src/lib/logger';
import { enqueueRendered } from '../../src/outbox/enqueue';
import { createGraphClient } from '../../src/outbox/graphClient';
import { text } from '../../src/rights/outcome';
import { at } from '../../src/privacy/pii';
import type { Deps } from '../../src/deps';
import { createWorkers, type WorkerSet } from '../../src/workers';
import { waIdOf } from '../lib/deliveries';
import { progress } from '../lib/rpc';
import { CommandProfiler, openProfiledDeps } from '../lib/profiler';

/**
 * Send rate (issue 9): a burst of outbound messages queued through enqueueRendered, one per
 * distinct subscriber (each inside the 24 h window, so every one is a free-form send), then the
 * real workers send them to the fake Graph API at SEND_RATE_PER_SECOND.
 */
export function sendRateHandlers(opts: { env: Record<string, string>; logFile: string }) {
  let runtime: { deps: Deps; close(): Promise<void> };
  let profiler: CommandProfiler;
  let workers: WorkerSet | undefined;
  return {
    async init() {
      const config = loadConfig(opts.env);
      // The deps openRuntime builds, with command monitoring on (where the send time goes).
      const p = await openProfiledDeps(config, createLogger(config.logLevel, pino.destination({ dest: opts.logFile, sync: true, mkdir: true })));
      runtime = { deps: p.deps, close: p.close };
      profiler = p.profiler;
      return { ratePerSecond: config.graph.ratePerSecond };
    },
    async seed(a: unknown) {
      const { count } = a as { count: number };
      const { deps } = runtime;
      const t0 = performance.now();
      const now = new Date();
      const subs = Array.from({ length: count }, (_, i) => {
        const waId = waIdOf(2_000_000 + i);
        const _id = new Types.ObjectId();
        return {
          _id,
          waId,
          key: deps.stores.subscribers.tokenOf({ waId }),
          waIdEnc: deps.pii.encrypt(waId, at('subscribers', 'waIdEnc', _id)),
          bsuidKey: null,
          bsuidEnc: null,
          nameEnc: null,
          locale: 'en',
          consent: 'opted_in',
          consentAt: now,
          windowUntil: new Date(now.getTime() + 24 * 3600_000),
          lastInboundAt: now,
          lastActivityAt: now,
          hintSentAt: null,
          pausedByStaff: false,
          pending: null,
          unanswered: false,
          createdAt: now,
        };
      });
      await deps.models.Subscriber.collection.insertMany(subs.map(({ waId: _w, ...s }) => s) as never[], { ordered: false });
      const rendered = renderReply(deps.i18n, deps.config, 'en', text('optIn.confirmed'));
      for (const [i, s] of subs.entries()) {
        await enqueueRendered(deps, {
          id: `bench-burst-${i}:0`,
          subscriberId: s._id,
          to: { phone: `+${s.waId}` },
          from: deps.config.whatsapp.phoneNumberIds[0],
          category: 'service',
          kind: rendered.kind,
          body: rendered.body,
          display: rendered.display,
          order: now.getTime() * 100 + i,
          record: true,
          purgeAfterSend: false,
          by: 'bench',
        });
      }
      const ms = performance.now() - t0;
      progress(`queued ${count} messages in ${(ms / 1000).toFixed(1)} s`);
      return { queueMs: ms };
    },
    async start() {
      profiler.start();
      workers = createWorkers(runtime.deps, { graph: createGraphClient(runtime.deps.config) });
      workers.start();
      return { startedAt: Date.now() };
    },
    async outcome() {
      const profile = profiler.stop();
      const { Outbox } = runtime.deps.models;
      const byState: Record<string, number> = {};
      for (const state of ['pending', 'sending', 'sent', 'failed']) byState[state] = await Outbox.countDocuments({ state });
      return { byState, profile };
    },
    async metrics() {
      return runtime.deps.metrics.registry.metrics();
    },
    async stop() {
      await workers?.stop();
      await runtime?.close();
      setTimeout(() => process.exit(0), 100);
    },
  };
}
