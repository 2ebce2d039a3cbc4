import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedDb, type EmbeddedDb } from '../../src/db/embedded';

declare global {
  var __EMBEDDED_DB__: EmbeddedDb | undefined;
}

/**
 * One real MongoDB-compatible server over TCP for the whole run: the embedded FerretDB in a fresh
 * temporary folder, unless MONGODB_URI points at another server (e.g. a real MongoDB 8).
 * Each test file then works in its own database (support/testDb.ts).
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.MONGODB_URI) {
    process.env.TEST_MONGODB_URI = process.env.MONGODB_URI;
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'privacybot-test-db-'));
  const db = await startEmbeddedDb({ dir, dbName: 'test', durable: false, progress: (line) => process.stderr.write(`${line}\n`) });
  globalThis.__EMBEDDED_DB__ = db;
  process.env.TEST_MONGODB_URI = db.uri;
  process.env.TEST_EMBEDDED_DB_DIR = dir;
}
