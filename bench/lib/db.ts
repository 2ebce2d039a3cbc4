import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { startEmbeddedDb, type EmbeddedDb } from '../../src/db/embedded';

/** The database server the benchmark runs against: its own embedded FerretDB, or MONGODB_URI. */
export interface BenchDbServer {
  baseUri: string;
  description: string;
  /** The embedded server's process id (for its CPU time); undefined for MONGODB_URI. */
  pid?: number;
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
    embedded = await startEmbeddedDb({ dir, dbName: 'bench', progress: log });
    baseUri = embedded.uri;
  }
  const uriFor = (dbName: string) => {
    const u = new URL(baseUri);
    u.pathname = `/${dbName}`;
    return u.toString();
  };
  const version = await serverVersion(uriFor('bench_probe'));
  const description = embedded
    ? `embedded FerretDB ${version} (SQLite handler), fresh data folder in ${os.tmpdir()}`
    : `MONGODB_URI (${new URL(baseUri).host}), server ${version}`;
  return {
    baseUri,
    description,
    pid: embedded?.pid,
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
