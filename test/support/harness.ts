import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import type express from 'express';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { Deps } from '../../src/deps';
import type { Clock } from '../../src/lib/clock';
import { createLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import { createTranslator } from '../../src/i18n/i18n';
import { createPii } from '../../src/privacy/pii';
import { loadKeys } from '../../src/privacy/loadKeys';
import { openTestDb, type TestDb } from './testDb';

export const TEST_APP_SECRET = 'test_app_secret_not_real';
export const TEST_VERIFY_TOKEN = 'verify-token-for-tests';
export const TEST_API_TOKEN = 'integration-token-for-tests-0123456789';
export const TEST_PHONE_NUMBER_ID = '200000000000002';
export const TEST_KEYS = {
  PII_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  PII_HMAC_KEY: Buffer.alloc(32, 9).toString('base64'),
};

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

export function testEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    WHATSAPP_APP_SECRET: TEST_APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: TEST_VERIFY_TOKEN,
    WHATSAPP_ACCESS_TOKEN: 'graph-token-for-tests',
    WHATSAPP_PHONE_NUMBER_ID: TEST_PHONE_NUMBER_ID,
    INTEGRATION_API_TOKENS: TEST_API_TOKEN,
    BUSINESS_NAME: 'Acme Test Shop',
    SUPPORT_CONTACT: 'help@acme.test',
    PRIVACY_POLICY_URL: 'https://acme.test/privacy',
    LOG_LEVEL: 'debug',
    ...TEST_KEYS,
    ...overrides,
  };
}

/** The real app on a fresh test database of the shared server; nothing of ours is mocked. */
export async function createHarness(label: string, opts: { env?: Record<string, string | undefined>; clock?: TestClock; baseUri?: string } = {}): Promise<Harness> {
  const db = await openTestDb(label, opts.baseUri);
  const config = loadConfig(testEnv({ MONGODB_URI: db.uri, ...opts.env }));
  const logs = new LogSink();
  const clock = opts.clock ?? new TestClock();
  const deps: Deps = {
    config,
    log: createLogger(config.logLevel, logs),
    conn: db.conn,
    models: db.models,
    pii: createPii(loadKeys(config)),
    metrics: createMetrics(),
    clock,
    i18n: createTranslator(),
    bus: new EventEmitter().setMaxListeners(1000),
  };
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
