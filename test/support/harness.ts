import { Writable } from 'node:stream';
import type express from 'express';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { Deps } from '../../src/deps';
import type { Clock } from '../../src/lib/clock';
import { createLogger } from '../../src/lib/logger';
import { buildDeps } from '../../src/wiring';
import { testEnv } from './env';
import { openTestDb, type TestDb } from './testDb';

// The test environment lives in env.ts (the fault suite and the bench use it too); most tests import it from here.
export { TEST_APP_SECRET, TEST_VERIFY_TOKEN, TEST_API_TOKEN, TEST_PHONE_NUMBER_ID, TEST_KEYS, testEnv } from './env';

/** A clock tests can move. */
export class TestClock implements Clock {
  constructor(private t = new Date('2026-11-29T10:00:00Z')) {}
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t = new Date(this.t.getTime() + ms);
  }
  set(d: Date): void {
    this.t = new Date(d);
  }
}

/** Captures every log line, so tests can assert what was (not) logged. */
export class LogSink extends Writable {
  lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface Harness {
  deps: Deps;
  app: express.Express;
  db: TestDb;
  logs: LogSink;
  clock: TestClock;
  close(): Promise<void>;
}

/** The real app on a fresh test database of the shared server; nothing of ours is mocked. */
export async function createHarness(
  label: string,
  opts: { env?: Record<string, string | undefined>; clock?: TestClock; baseUri?: string } = {},
): Promise<Harness> {
  const db = await openTestDb(label, opts.baseUri);
  const config = loadConfig(testEnv({ MONGODB_URI: db.uri, ...opts.env }));
  const logs = new LogSink();
  const clock = opts.clock ?? new TestClock();
  const deps = await buildDeps({ config, log: createLogger(config.logLevel, logs), conn: db.conn, clock });
  return {
    deps,
    app: createApp(deps),
    db,
    logs,
    clock,
    async close() {
      await db.drop();
    },
  };
}
