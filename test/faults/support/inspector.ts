/**
 * Inspecting the service's database (read-only) with the product's own dependencies and keys
 * (src/wiring.ts), and the scenarios' common tear-down.
 */
import { loadConfig } from '../../../src/config';
import { connectDb } from '../../../src/db/connection';
import type { Deps } from '../../../src/deps';
import { createLogger } from '../../../src/lib/logger';
import { loadKeys } from '../../../src/privacy/loadKeys';
import { createPii, type Pii } from '../../../src/privacy/pii';
import { buildDeps } from '../../../src/wiring';
import { testEnv } from '../../support/env';
import type { FakeGraph } from '../../support/fakeGraph';
import type { AppProcess } from './appProcess';

export interface Inspector extends Deps {
  close(): Promise<void>;
}

/** The service's keys (appEnv gives it the test environment's): to read sealed values and derive its ids. */
export function testPii(): Pii {
  return createPii(loadKeys(loadConfig(testEnv())));
}

/**
 * The dependencies the service builds, on a connection of our own to its database. Opened after the
 * service started, so the collections and indexes buildDeps ensures are already there.
 */
export async function openInspector(uri: string): Promise<Inspector> {
  const config = loadConfig(testEnv({ MONGODB_URI: uri }));
  const conn = await connectDb(uri, { serverSelectionTimeoutMS: 20_000 });
  const deps = await buildDeps({ config, log: createLogger('silent'), conn });
  return { ...deps, close: () => conn.close() };
}

/** Stops the service (or its replicas) and the fake Graph API; drops the test database unless FAULTS_KEEP_DB is set. */
export async function tearDown(r: { app?: AppProcess; apps?: AppProcess[]; ins?: Inspector; fake?: FakeGraph }): Promise<void> {
  await r.app?.stop();
  await Promise.all((r.apps ?? []).map((a) => a.stop()));
  // Test databases (their names contain "test") are dropped unless FAULTS_KEEP_DB is set.
  if (!process.env.FAULTS_KEEP_DB) await r.ins?.conn.dropDatabase().catch(() => undefined);
  await r.ins?.close();
  await r.fake?.stop();
}
