import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import mongoose from 'mongoose';
import { loadConfig } from '../../src/config';
import { loadKeys } from '../../src/privacy/loadKeys';
import { createPii } from '../../src/privacy/pii';
import { messageKey } from '../../src/privacy/ids';
import { appEnv } from '../lib/env';
import { deliveryHeaders, textDelivery, waIdOf } from '../lib/deliveries';
import { spawnChild } from '../lib/rpc';
import { cpuUsageMs, processTreeCpuMs } from '../lib/cpu';
import { int, ms, round, sleep } from '../lib/stats';
import { envInt, logFile, type BenchContext } from './context';

/**
 * Part 1 — webhook ingest throughput: autocannon, N connections, unique signed single-message
 * deliveries, against our POST /webhook (workers off: the durable ack alone), a bare Express 5
 * raw-body endpoint (the ceiling) and whatsapp-api-js's Express middleware (the peer). Every server
 * runs alone in a child process, measured the same way, after the same warm-up.
 */
export interface TargetResult {
  target: 'ours' | 'bare' | 'peer';
  label: string;
  requestsPerSecond: number;
  okPerSecond: number;
  latencyP50: number;
  latencyP90: number;
  latencyP99: number;
  latencyMax: number;
  responses: number;
  ok2xx: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  durationS: number;
  sentRequests: number;
  /** CPU time per answered request during the measured run, ms: the server process, the database process, the load generator. */
  cpuMsPerRequest: { server: number; database: number; generator: number };
}

export interface IngestResult {
  /** The database's own write ceiling on this machine (no HTTP, no app): inbox-shaped inserts. */
  dbCeiling: { concurrency: number; batch: number; docsPerSecond: number; insertsPerSecond: number }[];
  connections: number;
  durationS: number;
  warmupS: number;
  targets: TargetResult[];
  ratioToBare: number;
  ratioToPeer: number;
  durability: {
    ok2xx: number;
    storedFromMeasuredRun: number;
    ackedButMissing: number;
    storedButNeverSent: number;
    inFlightAtStop: number;
    equal: boolean;
    note: string;
  };
}

const LABELS = {
  ours: 'ours: POST /webhook (verify, parse, store in inbox, then 200)',
  bare: 'bare Express 5 + express.raw → 200 (ceiling)',
  peer: 'peer: whatsapp-api-js Express middleware (verify, parse, no-op handler)',
} as const;

async function hammer(port: number, connections: number, durationS: number, idPrefix: string, sent: string[], acked: string[]) {
  let n = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: durationS,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/webhook',
        setupRequest: (req, context) => {
          const id = `${idPrefix}${(n++).toString(36)}`;
          (context as { id?: string }).id = id;
          sent.push(id);
          const d = textDelivery(waIdOf(n % 10_000), 'Hello, where is my order?', id);
          return { ...req, body: d.body, headers: deliveryHeaders(d) };
        },
        onResponse: (status, _body, context) => {
          if (status >= 200 && status < 300) acked.push((context as { id: string }).id);
        },
      },
    ],
  });
  return result;
}

export async function runIngest(ctx: BenchContext): Promise<IngestResult> {
  const connections = envInt(ctx.env, 'BENCH_INGEST_CONNECTIONS', 50);
  const durationS = envInt(ctx.env, 'BENCH_INGEST_SECONDS', 20);
  const warmupS = envInt(ctx.env, 'BENCH_INGEST_WARMUP_SECONDS', 3);
  const dbName = ctx.db.newDatabase('ingest');
  const uri = ctx.db.uriFor(dbName);
  const tag = randomBytes(3).toString('hex');
  const targets: TargetResult[] = [];

  const probeSeconds = envInt(ctx.env, 'BENCH_INGEST_PROBE_SECONDS', 4);
  const dbCeiling: IngestResult['dbCeiling'] = [];
  const probe = await spawnChild('dbprobe', { uri: ctx.db.uriFor(ctx.db.newDatabase('ingestprobe')) }, (l) => ctx.log(`  [probe] ${l}`));
  try {
    for (const [concurrency, batch] of [
      [connections, 1],
      [5, 50],
    ]) {
      const p = await probe.call<{ docsPerSecond: number; insertsPerSecond: number }>('run', { seconds: probeSeconds, concurrency, batch });
      dbCeiling.push({ concurrency, batch, ...p });
      ctx.log(`ingest: database ceiling: ${concurrency} concurrent inserts of ${batch} inbox document(s): ${int(p.docsPerSecond)} documents/s`);
    }
  } finally {
    await probe.stop();
  }
  let durability: IngestResult['durability'] | undefined;

  for (const target of ['ours', 'bare', 'peer'] as const) {
    ctx.log(`ingest: starting ${target} server (child process)…`);
    const child = await spawnChild<{ port: number }>(
      target === 'ours' ? 'app' : target,
      target === 'ours' ? { env: appEnv({ mongodbUri: uri }), workers: false, logFile: logFile(ctx, 'ingest-app') } : {},
      (l) => ctx.log(`  [${target}] ${l}`),
    );
    try {
      const port = child.info.port;
      ctx.log(`ingest: ${target}: warm-up ${warmupS} s…`);
      await hammer(port, connections, warmupS, `wamid.BENCH${tag}${target}W`, [], []);
      await sleep(1000);
      const sent: string[] = [];
      const acked: string[] = [];
      ctx.log(`ingest: ${target}: ${connections} connections for ${durationS} s…`);
      const cpu0 = {
        server: cpuUsageMs(await child.call<NodeJS.CpuUsage>('cpu')),
        database: processTreeCpuMs(ctx.db.pids),
        generator: cpuUsageMs(process.cpuUsage()),
      };
      const t0 = performance.now();
      const r = await hammer(port, connections, durationS, `wamid.BENCH${tag}${target}M`, sent, acked);
      const wall = (performance.now() - t0) / 1000;
      const cpu1 = {
        server: cpuUsageMs(await child.call<NodeJS.CpuUsage>('cpu')),
        database: processTreeCpuMs(ctx.db.pids),
        generator: cpuUsageMs(process.cpuUsage()),
      };
      const answered = Math.max(1, r['2xx'] + r.non2xx);
      const statusCodes: Record<string, number> = {};
      for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = (v as { count?: number }).count ?? 0;
      const res: TargetResult = {
        target,
        label: LABELS[target],
        requestsPerSecond: r.requests.average,
        okPerSecond: r['2xx'] / (r.duration || wall),
        latencyP50: r.latency.p50,
        latencyP90: r.latency.p90,
        latencyP99: r.latency.p99,
        latencyMax: r.latency.max,
        responses: r['1xx'] + r['2xx'] + r['3xx'] + r['4xx'] + r['5xx'],
        ok2xx: r['2xx'],
        non2xx: r.non2xx,
        statusCodes,
        errors: r.errors,
        timeouts: r.timeouts,
        durationS: r.duration,
        sentRequests: sent.length,
        cpuMsPerRequest: {
          server: (cpu1.server - cpu0.server) / answered,
          database: target === 'ours' ? (cpu1.database - cpu0.database) / answered : 0,
          generator: (cpu1.generator - cpu0.generator) / answered,
        },
      };
      targets.push(res);
      ctx.log(
        `ingest: ${target}: ${round(res.requestsPerSecond)} req/s (2xx ${round(res.okPerSecond)}/s), p50 ${ms(res.latencyP50)}, p99 ${ms(res.latencyP99)}, max ${ms(res.latencyMax)}, non-2xx ${res.non2xx}, errors ${res.errors}; ` +
          `CPU per request: server ${res.cpuMsPerRequest.server.toFixed(2)} ms, database ${res.cpuMsPerRequest.database.toFixed(2)} ms, generator ${res.cpuMsPerRequest.generator.toFixed(2)} ms`,
      );
      if (target === 'ours') {
        // Durability: every 2xx must be in the inbox; answers cut off by autocannon's stop may be stored too.
        await sleep(2000);
        durability = await checkDurability(uri, `wamid.BENCH${tag}oursM`, sent, acked, connections);
        ctx.log(
          `ingest: durability: ${int(durability.ok2xx)} answered 2xx, ${int(durability.storedFromMeasuredRun)} stored, ${durability.ackedButMissing} acknowledged but missing, ${durability.inFlightAtStop} in flight at the stop`,
        );
      }
    } finally {
      await child.stop();
    }
  }
  const ours = targets.find((t) => t.target === 'ours')!;
  const bare = targets.find((t) => t.target === 'bare')!;
  const peer = targets.find((t) => t.target === 'peer')!;
  const result: IngestResult = {
    dbCeiling,
    connections,
    durationS,
    warmupS,
    targets,
    ratioToBare: ours.okPerSecond / bare.okPerSecond,
    ratioToPeer: ours.okPerSecond / peer.okPerSecond,
    durability: durability!,
  };
  ctx.log(`ingest: ours / bare = ${result.ratioToBare.toFixed(2)} (target ≥ 0.5), ours / peer = ${result.ratioToPeer.toFixed(2)} (target ≥ 1.0)`);
  return result;
}

async function checkDurability(uri: string, prefix: string, sent: string[], acked: string[], connections: number): Promise<IngestResult['durability']> {
  const client = new mongoose.mongo.MongoClient(uri);
  // The inbox keys items by a keyed hash of Meta's id (src/privacy/ids.ts), with the app's keys.
  const pii = createPii(loadKeys(loadConfig(appEnv({ mongodbUri: uri }))));
  const keyOf = new Map([...sent, ...acked].filter((id) => id.startsWith(prefix)).map((id) => [messageKey(pii, id), id]));
  try {
    await client.connect();
    const stored = new Set<string>();
    // One scan of the ids (the inbox of this database holds only this part's deliveries).
    for await (const d of client
      .db()
      .collection<{ _id: string }>('inbox')
      .find({}, { projection: { _id: 1 } })) {
      const metaId = keyOf.get(d._id);
      stored.add(metaId ?? d._id);
    }
    const sentSet = new Set(sent);
    const ackedSet = new Set(acked);
    const ackedButMissing = [...ackedSet].filter((id) => !stored.has(id)).length;
    const storedButNeverSent = [...stored].filter((id) => !sentSet.has(id)).length;
    const inFlightAtStop = [...stored].filter((id) => !ackedSet.has(id)).length;
    return {
      ok2xx: ackedSet.size,
      storedFromMeasuredRun: stored.size,
      ackedButMissing,
      storedButNeverSent,
      inFlightAtStop,
      equal: stored.size === ackedSet.size,
      note:
        ackedButMissing === 0 && inFlightAtStop <= connections
          ? `every 2xx is in the inbox; ${inFlightAtStop} more stored deliveries are requests that were in flight when autocannon stopped (at most one per connection, ${connections}), whose answers it no longer read`
          : 'MISMATCH: see the numbers',
    };
  } finally {
    await client.close();
  }
}
