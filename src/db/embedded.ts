import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import mongoose from 'mongoose';
import { AppError } from '../lib/errors';

/**
 * The embedded MongoDB-compatible server used by `npm start`, `npm test` and `npm run db` when
 * MONGODB_URI is unset: FerretDB v1.24.2 on its SQLite handler (https://github.com/FerretDB/FerretDB, v1.24.2),
 * built once into .tools/ferretdb by scripts/build-ferretdb.sh.
 *
 * The server must never outlive its owner, even one killed with SIGKILL: it is started through a
 * small sh wrapper that holds our stdin pipe; when the owner dies the pipe closes and the wrapper's
 * watcher terminates the server. A pid file in the data folder lets the next start clean up after
 * anything that still escaped.
 */
export interface EmbeddedDb {
  uri: string;
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
  /** Default: FerretDB, or mongodb-memory-server where FerretDB is not built and Go is missing. */
  engine?: 'ferretdb' | 'mongodb-memory-server';
}

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

// exec keeps the wrapper's pid for FerretDB. The watcher subshell polls the owner's pipe (fd 3):
// EOF means the owner is gone (even after SIGKILL), so it stops the server; it leaves by itself as
// soon as the server has exited. bash for `read -t` (1 = EOF, >128 = timeout).
const WRAPPER = [
  'exec 3<&0',
  '( while kill -0 $$ 2>/dev/null; do',
  '    read -r -t 1 _ <&3; rc=$?',
  '    if [ $rc -ne 0 ] && [ $rc -le 128 ]; then',
  '      kill -TERM $$ 2>/dev/null; for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 $$ 2>/dev/null || exit 0; sleep 0.5; done',
  '      kill -KILL $$ 2>/dev/null; exit 0',
  '    fi',
  '  done ) &',
  'exec "$0" "$@" 3<&- </dev/null',
].join('\n');

export async function startEmbeddedDb(opts: EmbeddedOptions): Promise<EmbeddedDb> {
  const progress = opts.progress ?? (() => undefined);
  if (opts.engine === 'mongodb-memory-server' || (opts.engine !== 'ferretdb' && !existsSync(BINARY) && !hasGo())) {
    return startMemoryServer(opts, progress);
  }
  const binary = ensureBinary(progress);
  const dir = path.resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  killStale(dir);
  const port = opts.port ?? (await freePort());
  const logFile = path.join(dir, 'ferretdb.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const args = [
    '--handler=sqlite',
    `--sqlite-url=file:${dir}/`,
    `--listen-addr=127.0.0.1:${port}`,
    '--debug-addr=-',
    `--state-dir=${dir}`,
    '--telemetry=disable',
    '--log-level=warn',
  ];
  const child: ChildProcess = spawn('bash', ['-c', WRAPPER, binary, ...args], {
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
    stopChild(child);
    const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-8).join('\n') : '';
    throw new AppError('DB.EMBEDDED_FAILED', `embedded FerretDB did not start on port ${port}: ${(err as Error).message}\n${tail}`, {
      cause: err,
    });
  }
  // Lets tools (the CLI) reach the server of a running app instead of starting a second one.
  writeFileSync(path.join(dir, 'ferretdb.uri'), uri);
  progress(`embedded FerretDB ready on 127.0.0.1:${port} (data in ${dir})`);

  return {
    uri,
    port,
    dir,
    pid,
    async stop() {
      if (exited) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      stopChild(child);
      const timer = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 5000);
      await done;
      clearTimeout(timer);
      rmSync(path.join(dir, 'ferretdb.pid'), { force: true });
      rmSync(path.join(dir, 'ferretdb.uri'), { force: true });
    },
  };
}

function stopChild(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(child.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  child.stdin?.end();
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

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
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
