import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { startEmbeddedDb, type EmbeddedDb, type EmbeddedEngine } from '../../src/db/embedded';
import { postgresBinaries } from '../../src/db/embeddedPostgres';

/** The database server the benchmark runs against: its own embedded FerretDB, or MONGODB_URI. */
export interface BenchDbServer {
  baseUri: string;
  description: string;
  /** The embedded server's process id; undefined for MONGODB_URI. */
  pid?: number;
  /** The embedded database's processes (FerretDB, and PostgreSQL's server under it): their trees' CPU time is the database's. */
  pids: number[];
  /** The engine actually running, read from the server process: "PostgreSQL 17.6 (…)", "SQLite (…)", "mongodb-memory-server"; "external" for MONGODB_URI. */
  engine: string;
  /** A fresh database name (always containing "bench") on this server. */
  newDatabase(label: string): string;
  uriFor(dbName: string): string;
  stop(): Promise<void>;
}

export async function openBenchDbServer(log: (line: string) => void): Promise<BenchDbServer> {
  const created: string[] = [];
  const external = process.env.MONGODB_URI;
  let embedded: EmbeddedDb | undefined;
  let dir: string | undefined;
  let baseUri: string;
  if (external) {
    baseUri = external;
  } else {
    dir = mkdtempSync(path.join(os.tmpdir(), 'privacybot-bench-db-'));
    // As the app: EMBEDDED_DB_ENGINE chooses (src/config.ts), else FerretDB on PostgreSQL where its binaries exist.
    embedded = await startEmbeddedDb({ dir, dbName: 'bench', progress: log, engine: engineFromEnv(process.env.EMBEDDED_DB_ENGINE) });
    baseUri = embedded.uri;
  }
  const uriFor = (dbName: string) => {
    const u = new URL(baseUri);
    u.pathname = `/${dbName}`;
    return u.toString();
  };
  const version = await serverVersion(uriFor('bench_probe'));
  const running = embedded ? runningEngine(embedded) : { engine: 'external', pids: [] };
  const description = embedded
    ? `embedded ${version} ${version.startsWith('FerretDB') ? 'on' : 'via'} ${running.engine}, fresh data folder in ${os.tmpdir()}`
    : `MONGODB_URI (${new URL(baseUri).host}), server ${version}`;
  return {
    baseUri,
    description,
    pid: embedded?.pid,
    pids: running.pids,
    engine: running.engine,
    newDatabase(label: string) {
      const name = `bench_${label.replace(/[^a-zA-Z0-9]/g, '').slice(0, 24)}_${randomBytes(3).toString('hex')}`;
      created.push(name);
      return name;
    },
    uriFor,
    async stop() {
      if (embedded) {
        await embedded.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
        return;
      }
      // An external server: drop only the databases this run created (their names contain "bench").
      const client = new mongoose.mongo.MongoClient(baseUri);
      try {
        await client.connect();
        for (const name of created)
          if (/bench/.test(name))
            await client
              .db(name)
              .dropDatabase()
              .catch(() => undefined);
      } finally {
        await client.close();
      }
    },
  };
}

async function serverVersion(uri: string): Promise<string> {
  const client = new mongoose.mongo.MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    const info = await client.db('admin').command({ buildInfo: 1 });
    if (info.ferretdb?.version) return `FerretDB ${info.ferretdb.version} (wire version ${info.version})`;
    if (info.ferretdbVersion) return `FerretDB ${info.ferretdbVersion} (wire version ${info.version})`;
    return `MongoDB ${info.version}`;
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  } finally {
    await client.close().catch(() => undefined);
  }
}

function engineFromEnv(v: string | undefined): EmbeddedEngine | undefined {
  if (!v) return undefined;
  if (v === 'ferretdb') return 'sqlite'; // the old name, as src/config.ts
  if (v === 'postgresql' || v === 'sqlite' || v === 'mongodb-memory-server') return v;
  throw new Error(`EMBEDDED_DB_ENGINE must be postgresql, sqlite or mongodb-memory-server (got "${v}")`);
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
};

/**
 * Which engine the embedded server really runs on, from its command line (FerretDB's --handler),
 * not from what was asked for; and its processes, PostgreSQL's server included.
 */
function runningEngine(db: EmbeddedDb): { engine: string; pids: number[] } {
  const args = cmdline(db.pid);
  const handler = args.find((a) => a.startsWith('--handler='))?.slice('--handler='.length);
  if (handler === 'postgresql') {
    const pidFile = path.join(db.dir, 'pg', 'postmaster.pid');
    const postmaster = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
    return { engine: `${postgresVersion(db.dir)} (FerretDB's postgresql handler)`, pids: [db.pid, ...(postmaster > 0 ? [postmaster] : [])] };
  }
  if (handler === 'sqlite') return { engine: "SQLite (FerretDB's sqlite handler)", pids: [db.pid] };
  if (args.some((a) => /mongod$/.test(a))) return { engine: 'mongodb-memory-server', pids: [db.pid] };
  return { engine: args.length ? `unknown engine (${path.basename(args[0])})` : 'unknown engine', pids: [db.pid] };
}

function postgresVersion(dir: string): string {
  const bin = postgresBinaries();
  try {
    if (bin) {
      // "postgres (PostgreSQL) 17.6"
      const v = /PostgreSQL\)?\s+(\S+)/.exec(execFileSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }))?.[1];
      if (v) return `PostgreSQL ${v}`;
    }
  } catch {
    /* fall back to the data folder's major version */
  }
  try {
    return `PostgreSQL ${readFileSync(path.join(dir, 'pg', 'PG_VERSION'), 'utf8').trim()}`;
  } catch {
    return 'PostgreSQL';
  }
}
