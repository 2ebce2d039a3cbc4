import path from 'node:path';
import type { Config } from './config';
import { connectDb } from './db/connection';
import { runningEmbeddedUri, startEmbeddedDb, type EmbeddedDb } from './db/embedded';
import type { Deps } from './deps';
import { systemClock, type Clock } from './lib/clock';
import type { Logger } from './lib/logger';
import { buildDeps } from './wiring';

export interface Runtime {
  deps: Deps;
  embedded?: EmbeddedDb;
  close(): Promise<void>;
}

/** Opens the database (the embedded one when MONGODB_URI is unset) and builds the dependencies (wiring.ts). */
export async function openRuntime(config: Config, log: Logger, clock: Clock = systemClock, opts: { reuseRunning?: boolean } = {}): Promise<Runtime> {
  let embedded: EmbeddedDb | undefined;
  let uri = config.mongodbUri;
  if (!uri && opts.reuseRunning) uri = runningEmbeddedUri(config.embeddedDb.dir ?? path.join(config.dataDir, 'db'));
  if (!uri) {
    const dbLog = log.child({ module: 'embedded-db' });
    embedded = await startEmbeddedDb({
      dir: config.embeddedDb.dir ?? path.join(config.dataDir, 'db'),
      port: config.embeddedDb.port,
      engine: config.embeddedDb.engine,
      dbName: 'privacybot',
      progress: (line) => dbLog.info(line),
    });
    uri = embedded.uri;
  }
  const conn = await connectDb(uri).catch(async (err) => {
    await embedded?.stop();
    throw err;
  });
  const deps = await buildDeps({ config, log, conn, clock }).catch(async (err) => {
    await conn.close().catch(() => undefined);
    await embedded?.stop();
    throw err;
  });
  return {
    deps,
    embedded,
    async close() {
      await conn.close().catch(() => undefined);
      await embedded?.stop();
    },
  };
}

/** The host part of a connection string, for messages (never the credentials). */
export function describeUri(uri: string): string {
  const m = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]+)/.exec(uri);
  return m ? m[1] : 'the configured server';
}
