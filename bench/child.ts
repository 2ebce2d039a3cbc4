import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import express from 'express';
import mongoose from 'mongoose';
import pino from 'pino';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/lib/logger';
import { openRuntime, type Runtime } from '../src/runtime';
import { createWorkers, type WorkerSet } from '../src/workers';
import { createGraphClient } from '../src/outbox/graphClient';
import { serveParent } from './lib/rpc';
import { CommandProfiler, openProfiledDeps } from './lib/profiler';
import { TEST_ACCESS_TOKEN, TEST_APP_SECRET, TEST_VERIFY_TOKEN } from '../test/support/env';
import { rightsHandlers } from './parts/rightsChild';
import { sendRateHandlers } from './parts/sendRateChild';

/**
 * Child process entry (forked by bench/run.ts). Modes:
 *   app   — the product: openRuntime + createApp(deps).listen(0), workers on or off
 *   bare  — Express 5 + express.raw, answers 200: the ceiling for a Node HTTP endpoint here
 *   peer  — whatsapp-api-js's own Express middleware (signature check, parse, no-op handler)
 *   rights, sendrate — database-heavy parts, run here so their memory and CPU are their own
 */
const mode = process.argv[2];
const options = JSON.parse(process.env.BENCH_CHILD_OPTIONS ?? '{}');

async function listen(app: express.Express): Promise<{ server: Server; port: number }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  server.keepAliveTimeout = 5000; // as src/main.ts
  return { server, port: (server.address() as AddressInfo).port };
}

function closeServer(server?: Server): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const exitSoon = () => setTimeout(() => process.exit(0), 100);

function appMode(): void {
  const opts = options as { env: Record<string, string>; workers: boolean; logFile: string; profile?: boolean };
  let runtime: Pick<Runtime, 'deps' | 'close'> | undefined;
  let profiler: CommandProfiler | undefined;
  let server: Server | undefined;
  let workers: WorkerSet | undefined;
  serveParent({
    async init() {
      const config = loadConfig(opts.env);
      // Production logs one line per request (pino-http) to stdout; here the same lines go to a file.
      const log = createLogger(config.logLevel, pino.destination({ dest: opts.logFile, sync: true, mkdir: true }));
      if (opts.profile) {
        // The same deps as openRuntime, on a connection with command monitoring (bench/lib/profiler.ts).
        const p = await openProfiledDeps(config, log);
        profiler = p.profiler;
        runtime = { deps: p.deps, close: p.close };
      } else {
        runtime = await openRuntime(config, log);
      }
      const l = await listen(createApp(runtime.deps));
      server = l.server;
      if (opts.workers) {
        workers = createWorkers(runtime.deps, { graph: createGraphClient(config) });
        workers.start();
      }
      return { port: l.port, pid: process.pid };
    },
    cpu: () => process.cpuUsage(),
    profileStart: () => profiler?.start(),
    profileStop: () => profiler?.stop(),
    async metrics() {
      return runtime!.deps.metrics.registry.metrics();
    },
    async counts() {
      const { Inbox, Outbox } = runtime!.deps.models;
      return {
        inbox: await Inbox.estimatedDocumentCount(),
        inboxOpen: await Inbox.countDocuments({ state: { $in: ['pending', 'processing'] } }),
        outboxOpen: await Outbox.countDocuments({ state: { $in: ['pending', 'sending'] } }),
      };
    },
    async stop() {
      await closeServer(server);
      await workers?.stop();
      await runtime?.close();
      exitSoon();
    },
  });
}

function bareMode(): void {
  let server: Server | undefined;
  serveParent({
    async init() {
      const app = express();
      app.disable('x-powered-by');
      app.post('/webhook', express.raw({ type: () => true, limit: 3 * 1024 * 1024 }), (req, res) => {
        res.sendStatus(Buffer.isBuffer(req.body) ? 200 : 400);
      });
      const l = await listen(app);
      server = l.server;
      return { port: l.port, pid: process.pid };
    },
    cpu: () => process.cpuUsage(),
    async stop() {
      await closeServer(server);
      exitSoon();
    },
  });
}

function peerMode(): void {
  let server: Server | undefined;
  let messages = 0;
  serveParent({
    async init() {
      // ESM package: loaded with import() from this CommonJS build.
      const { WhatsAppAPI } = await import('whatsapp-api-js/middleware/express');
      const Whatsapp = new WhatsAppAPI({ token: TEST_ACCESS_TOKEN, appSecret: TEST_APP_SECRET, v: 'v24.0', webhookVerifyToken: TEST_VERIFY_TOKEN });
      Whatsapp.on.message = () => {
        messages += 1;
      };
      const app = express();
      app.disable('x-powered-by');
      app.post('/webhook', express.text({ type: '*/*' }), async (req, res) => {
        res.sendStatus(await Whatsapp.handle_post(req));
      });
      const l = await listen(app);
      server = l.server;
      return { port: l.port, pid: process.pid };
    },
    cpu: () => process.cpuUsage(),
    async counts() {
      return { messages };
    },
    async stop() {
      await closeServer(server);
      exitSoon();
    },
  });
}

/**
 * The database's own ceiling for the webhook's write: one inbox-shaped document per insert, from
 * many concurrent callers (what the webhook does per delivery), and the same documents in batches.
 */
function dbProbeMode(): void {
  const opts = options as { uri: string };
  let client: InstanceType<typeof mongoose.mongo.MongoClient>;
  serveParent({
    async init() {
      client = new mongoose.mongo.MongoClient(opts.uri, { maxPoolSize: 20 });
      await client.connect();
      return { pid: process.pid };
    },
    async run(a: unknown) {
      const { seconds, concurrency, batch } = a as { seconds: number; concurrency: number; batch: number };
      const col = client.db().collection(`probe_${batch}_${concurrency}`);
      // The inbox's indexes (src/store/).
      for (const key of [{ state: 1, order: 1 }, { subscriberKey: 1, order: 1 }, { state: 1, leaseUntil: 1 }, { receivedAt: 1 }])
        await col.createIndex(key as never);
      const payload = 'e1.bench1.' + 'x'.repeat(560);
      let n = 0;
      const doc = () => {
        const i = n++;
        return {
          _id: `wamid.PROBE${batch}c${concurrency}n${i}` as never,
          field: 'messages',
          type: 'text',
          subscriberKey: `key${i % 10_000}`,
          payloadEnc: payload,
          order: Date.now() * 1000 + (i % 1000),
          receivedAt: new Date(),
          state: 'pending',
          leaseUntil: null,
          attempts: 0,
          lastError: null,
          processedAt: null,
        };
      };
      const end = performance.now() + seconds * 1000;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < end) await col.insertMany(Array.from({ length: batch }, doc), { ordered: false });
        }),
      );
      return { docs: n, docsPerSecond: n / ((performance.now() - t0) / 1000), insertsPerSecond: n / batch / ((performance.now() - t0) / 1000) };
    },
    async stop() {
      await client?.close();
      exitSoon();
    },
  });
}

switch (mode) {
  case 'dbprobe':
    dbProbeMode();
    break;
  case 'app':
    appMode();
    break;
  case 'bare':
    bareMode();
    break;
  case 'peer':
    peerMode();
    break;
  case 'rights':
    serveParent(rightsHandlers(options));
    break;
  case 'sendrate':
    serveParent(sendRateHandlers(options));
    break;
  default:
    process.stderr.write(`unknown child mode ${mode}\n`);
    process.exit(2);
}
