import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { AppError } from '../lib/errors';
import { postgresBinaries, startPostgres } from './embeddedPostgres';
import { freePort, OWNED_BY_PARENT, stopOwned } from './ownedProcess';

export { freePort };

/**
 * The embedded MongoDB-compatible server used by `npm start`, `npm test` and `npm run db` when
 * MONGODB_URI is unset: FerretDB v1.24.2 (https://github.com/FerretDB/FerretDB, built once into
 * .tools/ferretdb by scripts/build-ferretdb.sh) on PostgreSQL from the npm registry
 * (db/embeddedPostgres.ts) — a multi-writer engine with MVCC, closer to what MongoDB gives in
 * production than FerretDB's SQLite handler (one writer, only `_id` filters pushed down), which
 * stays selectable (EMBEDDED_DB_ENGINE=sqlite; README, The embedded database).
 *
 * The servers must never outlive their owner, even one killed with SIGKILL: they are started
 * through a wrapper bound to our stdin pipe (db/ownedProcess.ts). A pid file in the data folder
 * lets the next start clean up after anything that still escaped.
 */
export interface EmbeddedDb {
  uri: string;
  /** The PostgreSQL under FerretDB, when it runs on one (maintenance and tests). */
  postgresUrl?: string;
  port: number;
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dir: string;
  port?: number;
  dbName: string;
  /** Progress lines for a person waiting (build, start). */
  progress?: (line: string) => void;
  /**
   * Default: FerretDB on PostgreSQL (FerretDB on SQLite where no PostgreSQL binaries exist for the
   * platform); mongodb-memory-server where FerretDB is not built and Go is missing.
   */
  engine?: EmbeddedEngine;
  /** false (the test suite): PostgreSQL without fsync; the data is thrown away anyway. Default true. */
  durable?: boolean;
}

export type EmbeddedEngine = 'postgresql' | 'sqlite' | 'mongodb-memory-server';

const WAYS_OUT =
  'Ways out: set MONGODB_URI to a MongoDB you run, install Go (>= 1.24) so FerretDB can be built, or use `docker compose up` (docker-compose.yml).';

function hasGo(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

/**
 * The fallback for machines without Go (a laptop): a real mongod through mongodb-memory-server,
 * which downloads MongoDB where the internet allows it. Where that fails too, the message names the
 * ways out. Data lives in the same folder; the server stops with its owner.
 */
async function startMemoryServer(opts: EmbeddedOptions, progress: (line: string) => void): Promise<EmbeddedDb> {
  const dir = path.resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  progress('Go is not installed: starting a real mongod through mongodb-memory-server (it downloads MongoDB on first use)…');
  try {
    // An optional dependency (not in the container image): loaded only on this path.
    const { MongoMemoryServer } = await import('mongodb-memory-server-core');
    const server = await MongoMemoryServer.create({ instance: { ip: '127.0.0.1', port: opts.port, dbPath: dir, storageEngine: 'wiredTiger' } });
    const uri = new URL(server.getUri());
    uri.pathname = `/${opts.dbName}`;
    const port = Number(uri.port);
    progress(`mongod ready on 127.0.0.1:${port} (data in ${dir})`);
    return {
      uri: uri.toString(),
      port,
      dir,
      pid: server.instanceInfo?.instance.mongodProcess?.pid ?? 0,
      stop: async () => void (await server.stop({ doCleanup: false })),
    };
  } catch (err) {
    throw new AppError(
      'DB.EMBEDDED_FAILED',
      `no embedded database could be started: FerretDB needs Go, and mongodb-memory-server failed (${(err as Error).message.split('\n')[0]}). ${WAYS_OUT}`,
      { cause: err },
    );
  }
}

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const BINARY = path.join(PROJECT_ROOT, '.tools', 'ferretdb', 'bin', 'ferretdb');
const BUILD_SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'build-ferretdb.sh');

export async function startEmbeddedDb(opts: EmbeddedOptions): Promise<EmbeddedDb> {
  const progress = opts.progress ?? (() => undefined);
  if (opts.engine === 'mongodb-memory-server' || (!opts.engine && !existsSync(BINARY) && !hasGo())) {
    return startMemoryServer(opts, progress);
  }
  const binary = ensureBinary(progress);
  const dir = path.resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  killStale(dir);
  const port = opts.port ?? (await freePort());
  const engine = opts.engine ?? (postgresBinaries() ? 'postgresql' : 'sqlite');
  const pg = engine === 'postgresql' ? await startPostgres(dir, { durable: opts.durable ?? true, progress }) : null;
  const logFile = path.join(dir, 'ferretdb.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const args = [
    ...(pg ? ['--handler=postgresql', `--postgresql-url=${pg.url}`] : ['--handler=sqlite', `--sqlite-url=file:${dir}/`]),
    `--listen-addr=127.0.0.1:${port}`,
    '--debug-addr=-',
    `--state-dir=${dir}`,
    '--telemetry=disable',
    '--log-level=warn',
  ];
  const child: ChildProcess = spawn('bash', ['-c', OWNED_BY_PARENT, binary, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    // A fixed, minimal environment: the server needs nothing of ours (and telemetry stays off).
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', DO_NOT_TRACK: '1', FERRETDB_TELEMETRY: 'disable' },
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  // The pipe must not keep the owner alive, and must not be closed by accident.
  (child.stdin as unknown as { unref?: () => void })?.unref?.();
  child.unref();
  const pid = child.pid ?? 0;
  writeFileSync(path.join(dir, 'ferretdb.pid'), String(pid));
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  const uri = `mongodb://127.0.0.1:${port}/${opts.dbName}`;
  try {
    await waitReady(uri, () => exited, 30_000);
  } catch (err) {
    await stopOwned(child, 'SIGTERM', 5000);
    await pg?.stop();
    const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-8).join('\n') : '';
    throw new AppError('DB.EMBEDDED_FAILED', `embedded FerretDB did not start on port ${port}: ${(err as Error).message}\n${tail}`, {
      cause: err,
    });
  }
  // Lets tools (the CLI) reach the server of a running app instead of starting a second one.
  writeFileSync(path.join(dir, 'ferretdb.uri'), uri);
  progress(`embedded FerretDB (${engine}) ready on 127.0.0.1:${port} (data in ${dir})`);

  return {
    uri,
    postgresUrl: pg?.url,
    port,
    dir,
    pid,
    async stop() {
      if (!exited) await stopOwned(child, 'SIGTERM', 5000);
      await pg?.stop();
      rmSync(path.join(dir, 'ferretdb.pid'), { force: true });
      rmSync(path.join(dir, 'ferretdb.uri'), { force: true });
    },
  };
}

/** Finds the built binary, building it from the Go module proxy when Go is available. */
function ensureBinary(progress: (line: string) => void): string {
  if (existsSync(BINARY)) return BINARY;
  if (!hasGo()) throw new AppError('DB.EMBEDDED_FAILED', `the embedded database needs Go (>= 1.24) to build FerretDB once. ${WAYS_OUT}`);
  progress('building the embedded database (FerretDB v1.24.2) from the Go module proxy; a cold build takes a few minutes…');
  const r = spawnSync('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0 || !existsSync(BINARY)) throw new AppError('DB.EMBEDDED_FAILED', 'building FerretDB failed (see the lines above)');
  return BINARY;
}

/** A previous owner killed at the wrong moment may have left a server on this folder: stop it. */
function killStale(dir: string): void {
  const pidFile = path.join(dir, 'ferretdb.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (pid > 0 && isFerret(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(pidFile, { force: true });
}

/** The URI of an embedded server already running on this folder (for the CLI), if any. */
export function runningEmbeddedUri(dir: string): string | undefined {
  const pidFile = path.join(path.resolve(dir), 'ferretdb.pid');
  const uriFile = path.join(path.resolve(dir), 'ferretdb.uri');
  if (!existsSync(pidFile) || !existsSync(uriFile)) return undefined;
  return isFerret(Number(readFileSync(pidFile, 'utf8'))) ? readFileSync(uriFile, 'utf8').trim() : undefined;
}

function isFerret(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ferretdb');
  } catch {
    return false;
  }
}

async function waitReady(uri: string, exited: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (exited()) throw new Error('the server exited during start-up');
    const client = new mongoose.mongo.MongoClient(uri, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (err) {
      last = err;
    } finally {
      await client.close().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`not ready after ${timeoutMs} ms: ${(last as Error)?.message ?? 'no answer'}`);
}
