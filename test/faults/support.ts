/**
 * Fault-injection support (npm run test:faults): the real service (dist/main.js) as a child process
 * that can be SIGKILLed and restarted, a stream of signed WhatsApp conversations posted to it the way
 * Meta does (a delivery without a 200 is posted again), and read-only checks of the database and of
 * what the fake Graph API saw.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { connectDb } from '../../src/db/connection';
import { createModels, type Models } from '../../src/db/models';
import { messageKey } from '../../src/privacy/ids';
import { createPii, parseEncryptionKeys, type Pii } from '../../src/privacy/pii';
import { entryHash, GENESIS } from '../../src/rights/ledger';
import type { FakeGraph, RecordedRequest } from '../support/fakeGraph';
import { TEST_APP_SECRET, TEST_KEYS, TEST_PHONE_NUMBER_ID, TEST_VERIFY_TOKEN } from '../support/harness';
import { ROOT } from '../support/proc';
import { envelope, messagesChange, signed, textMessage } from '../support/whatsapp';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Where each run leaves its logs and figures (FAULTS_OUT, else a fresh folder under the temp dir). */
export function outDir(scenario: string): string {
  const base = process.env.FAULTS_OUT ?? path.join(os.tmpdir(), 'privacybot-faults');
  const dir = path.join(base, scenario);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
export const between = (r: () => number, lo: number, hi: number) => lo + r() * (hi - lo);

// ---------------------------------------------------------------------------------------------
// The service as a real process

export interface AppEnvOptions {
  mongodbUri: string;
  port: number;
  graphUrl: string;
  extra?: Record<string, string>;
}

export function appEnv(o: AppEnvOptions): Record<string, string> {
  return {
    NODE_ENV: 'test',
    MONGODB_URI: o.mongodbUri,
    PORT: String(o.port),
    HOST: '127.0.0.1',
    WHATSAPP_APP_SECRET: TEST_APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: TEST_VERIFY_TOKEN,
    WHATSAPP_ACCESS_TOKEN: 'graph-token-for-tests',
    WHATSAPP_PHONE_NUMBER_ID: TEST_PHONE_NUMBER_ID,
    GRAPH_API_BASE_URL: o.graphUrl,
    ...TEST_KEYS,
    LOG_LEVEL: 'warn',
    DATA_DIR: path.join(os.tmpdir(), 'privacybot-faults-data'),
    ...o.extra,
  };
}

interface Life {
  pid: number;
  startedAt: number;
  readyAt?: number;
  endedAt?: number;
  how?: string;
}

/**
 * `node dist/main.js` under our control. Every life's stdout/stderr is appended to one log file
 * (prefixed with the pid), so a crash can be traced afterwards.
 */
export class AppProcess {
  child?: ChildProcess;
  lives: Life[] = [];
  /** Lines of every life that look like a crash (uncaught exception, fatal, unhandled rejection). */
  crashes: string[] = [];
  /** Every stderr line (the service logs to stdout; stderr is Node's own voice). */
  stderr: string[] = [];
  /** Exits we did not cause. */
  unexpectedExits: { pid: number; code: number | null; signal: string | null; at: number }[] = [];
  private exited?: Promise<void>;
  private killing = false;

  constructor(
    readonly env: Record<string, string>,
    readonly logFile: string,
  ) {
    writeFileSync(logFile, '');
  }

  get url(): string {
    return `http://127.0.0.1:${this.env.PORT}`;
  }

  get alive(): boolean {
    return Boolean(this.child && this.child.exitCode === null && this.child.signalCode === null);
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  /** Spawns a new life; does not wait for readiness. */
  spawn(): Life {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'main.js')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...this.env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const life: Life = { pid: child.pid ?? 0, startedAt: Date.now() };
    this.lives.push(life);
    this.child = child;
    this.killing = false;
    const onData = (stream: string) => (d: Buffer) => {
      const text = d.toString('utf8');
      appendFileSync(this.logFile, text.split('\n').filter(Boolean).map((l) => `[${life.pid} ${stream}] ${l}\n`).join(''));
      for (const line of text.split('\n').filter(Boolean)) {
        // main.ts logs an uncaught exception at fatal (60) before exiting; Node itself writes
        // unhandled rejections, aborts and heap exhaustion to stderr.
        if (/uncaught exception|unhandledRejection|UnhandledPromiseRejection|"level":60|FATAL ERROR|heap out of memory/i.test(line)) this.crashes.push(`[${life.pid}] ${line.slice(0, 2000)}`);
        if (stream === 'err') this.stderr.push(`[${life.pid}] ${line.slice(0, 500)}`);
      }
    };
    child.stdout!.on('data', onData('out'));
    child.stderr!.on('data', onData('err'));
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        life.endedAt = Date.now();
        life.how = signal ?? `exit ${code}`;
        if (!this.killing) this.unexpectedExits.push({ pid: life.pid, code, signal, at: life.endedAt });
        resolve();
      }),
    );
    return life;
  }

  /** Spawns and waits until /healthz answers 200; returns the start-up time in ms. */
  async start(timeoutMs = 60_000): Promise<number> {
    const life = this.spawn();
    await this.waitReady(life, timeoutMs);
    return (life.readyAt ?? Date.now()) - life.startedAt;
  }

  async waitReady(life = this.lives[this.lives.length - 1], timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`the service exited during start-up (${life.how}); see ${this.logFile}`);
      if ((await httpGet(`${this.url}/healthz`, 1000)).status === 200) {
        life.readyAt = Date.now();
        return;
      }
      await sleep(50);
    }
    throw new Error(`the service was not healthy after ${timeoutMs} ms; see ${this.logFile}`);
  }

  /** kill -9; resolves once the process is gone. */
  async kill9(): Promise<void> {
    if (!this.alive) return;
    this.killing = true;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful), SIGKILL after 12 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.killing = true;
    this.child!.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), 12_000);
    await this.exited;
    clearTimeout(t);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP on loopback, no keep-alive (a killed server must not leave a half-dead pooled socket)

export interface PostResult {
  status: number; // 0: no HTTP answer (refused, reset, timed out)
  error?: string;
  startedAt: number;
  endedAt: number;
}

export function httpPost(url: string, raw: string | Buffer, headers: Record<string, string>, timeoutMs = 20_000): Promise<PostResult> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number, error?: string) => {
      if (settled) return;
      settled = true;
      resolve({ status, error, startedAt, endedAt: Date.now() });
    };
    const body = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    const req = http.request(url, { method: 'POST', agent: false, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => done(res.statusCode ?? 0));
      res.on('error', (e) => done(0, e.message));
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy(new Error('timeout'));
    });
    req.on('error', (e) => done(0, (e as NodeJS.ErrnoException).code ?? e.message));
    req.end(body);
  });
}

export function httpGet(url: string, timeoutMs = 3000): Promise<PostResult> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, startedAt, endedAt: Date.now() }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, error: e.message, startedAt, endedAt: Date.now() }));
  });
}

export function postSigned(baseUrl: string, raw: string, signature: string, timeoutMs = 20_000): Promise<PostResult> {
  return httpPost(`${baseUrl}/webhook`, raw, { 'content-type': 'application/json', 'x-hub-signature-256': signature }, timeoutMs);
}

// ---------------------------------------------------------------------------------------------
// Conversations: many subscribers, each sending keywords one after the other

export const KEYWORDS = ['STOP', 'START', 'HELP', 'STATUS'] as const;
export type Keyword = (typeof KEYWORDS)[number];

export interface SentMessage {
  /** The WhatsApp message id posted (it names the number, as Meta's do). */
  id: string;
  /** What the service stores it under: the inbox id, the inbound message id and the prefix of its replies' ids. */
  key: string;
  waId: string;
  keyword: Keyword;
  seq: number;
  ts: number;
  attempts: PostResult[];
  ackedAt?: number;
}

export interface DriverOptions {
  baseUrl: string;
  /** Distinct 11-digit prefix per scenario, so numbers never collide between scenarios. */
  numberPrefix: string;
  subscribers: number;
  seed: number;
  /** Pause between two messages of one subscriber. */
  gapMs: [number, number];
  /** Upper bound of messages per subscriber (the stream also stops when stop() is called). */
  maxPerSubscriber: number;
  /** Pause before re-posting a delivery that was not acknowledged. */
  retryMs?: number;
  /** Give up re-posting after this long (the check then reports the delivery as never acknowledged). */
  ackDeadlineMs?: number;
  /**
   * Meta also redelivers deliveries that were acknowledged: with this probability an acknowledged
   * delivery is posted again, byte for byte, 0-3 s later (fire and forget; the answer is recorded).
   */
  redeliveryRate?: number;
}

/**
 * Posts a continuous, mixed stream of conversations. A subscriber's next message is sent only after
 * the previous one was acknowledged (WhatsApp timestamps increase by 2 s per message), so "the last
 * keyword" is well defined; subscribers run concurrently. Every unacknowledged delivery is posted
 * again, byte for byte, until it gets a 200 — as Meta does.
 */
export class ConversationDriver {
  messages: SentMessage[] = [];
  responses: PostResult[] = [];
  /** Answers to redeliveries of already acknowledged deliveries. */
  redeliveries: PostResult[] = [];
  private stopping = false;
  private runners: Promise<void>[] = [];
  private extra = new Set<Promise<void>>();
  private attemptWaiters: (() => void)[] = [];
  private readonly r: () => number;
  readonly baseTs = Math.floor(Date.now() / 1000) - 1800;

  constructor(private o: DriverOptions) {
    this.r = rng(o.seed);
  }

  waIds(): string[] {
    return Array.from({ length: this.o.subscribers }, (_, i) => `${this.o.numberPrefix}${String(i).padStart(4, '0')}`);
  }

  start(): void {
    for (const waId of this.waIds()) this.runners.push(this.run(waId));
  }

  /** Stops starting new messages; resolves when every started message was acknowledged (or gave up). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.runners);
    await Promise.all([...this.extra]);
  }

  setBaseUrl(url: string): void {
    this.o.baseUrl = url;
  }

  /** Resolves when the next post of a new (not yet acknowledged) delivery starts. */
  nextAttempt(): Promise<void> {
    return new Promise((resolve) => this.attemptWaiters.push(resolve));
  }

  private async run(waId: string): Promise<void> {
    // Stagger the first messages.
    await sleep(between(this.r, 0, this.o.gapMs[1]));
    for (let seq = 0; seq < this.o.maxPerSubscriber && !this.stopping; seq++) {
      const keyword = pick(this.r, KEYWORDS);
      const ts = this.baseTs + seq * 2;
      const id = `wamid.FAULT.${waId}.${seq}`;
      const { raw, signature } = signed(envelope(messagesChange({ waId, name: `Sub ${waId.slice(-4)}` }, [textMessage(keyword, { id, timestamp: ts })])));
      const m: SentMessage = { id, key: messageKey(testPii(), id), waId, keyword, seq, ts, attempts: [] };
      this.messages.push(m);
      const deadline = Date.now() + (this.o.ackDeadlineMs ?? 180_000);
      while (Date.now() < deadline) {
        const pending = postSigned(this.o.baseUrl, raw, signature);
        for (const w of this.attemptWaiters.splice(0)) w();
        const res = await pending;
        m.attempts.push(res);
        this.responses.push(res);
        if (res.status === 200) {
          m.ackedAt = res.endedAt;
          break;
        }
        await sleep(this.o.retryMs ?? 200);
      }
      if (!m.ackedAt) return; // never acknowledged: stop this conversation (reported by the check)
      if (this.r() < (this.o.redeliveryRate ?? 0)) {
        const p: Promise<void> = sleep(between(this.r, 0, 3000))
          .then(() => postSigned(this.o.baseUrl, raw, signature))
          .then((res) => void this.redeliveries.push(res))
          .finally(() => this.extra.delete(p));
        this.extra.add(p);
      }
      await sleep(between(this.r, this.o.gapMs[0], this.o.gapMs[1]));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Inspecting the database (read-only) with the product's own models and keys

export interface Inspector {
  conn: Connection;
  models: Models;
  pii: Pii;
  close(): Promise<void>;
}

/** The service's keys (appEnv passes TEST_KEYS): to read sealed values and derive its ids. */
export function testPii(): Pii {
  return createPii({ encryptionKeys: parseEncryptionKeys(TEST_KEYS.PII_ENCRYPTION_KEYS), hmacKey: Buffer.from(TEST_KEYS.PII_HMAC_KEY, 'base64') });
}

export async function openInspector(uri: string): Promise<Inspector> {
  const conn = await connectDb(uri, { serverSelectionTimeoutMS: 20_000 });
  const models = createModels(conn);
  return { conn, models, pii: testPii(), close: () => conn.close() };
}

export interface Backlog {
  inboxOpen: number;
  outboxOpen: number;
}

export async function backlog(m: Models): Promise<Backlog> {
  const [inboxOpen, outboxOpen] = await Promise.all([
    m.Inbox.countDocuments({ state: { $in: ['pending', 'processing'] } }),
    m.Outbox.countDocuments({ state: { $in: ['pending', 'sending'] } }),
  ]);
  return { inboxOpen, outboxOpen };
}

/** Waits until nothing is open in the inbox or the outbox; resolves with the time it took (ms). */
export async function waitDrained(m: Models, timeoutMs: number, onTick?: (b: Backlog) => void): Promise<{ ms: number; drained: boolean; last: Backlog }> {
  const t0 = Date.now();
  let last: Backlog = { inboxOpen: -1, outboxOpen: -1 };
  while (Date.now() - t0 < timeoutMs) {
    try {
      last = await backlog(m);
      onTick?.(last);
      if (last.inboxOpen === 0 && last.outboxOpen === 0) return { ms: Date.now() - t0, drained: true, last };
    } catch {
      /* the database may be coming back */
    }
    await sleep(500);
  }
  return { ms: Date.now() - t0, drained: false, last };
}

// ---------------------------------------------------------------------------------------------
// The exactly-once check of a conversation run

export interface Delivery {
  key: string;
  /** The number without '+', or `bsuid:<id>` for a username user addressed by `recipient`. */
  to: string;
  at: number;
}

export function graphDeliveries(fake: FakeGraph): Delivery[] {
  return fake.delivered().map((r: RecordedRequest) => {
    const b = r.body as Record<string, unknown>;
    const to = b.to !== undefined ? String(b.to).replace(/^\+/, '') : `bsuid:${String(b.recipient)}`;
    return { key: String(b.biz_opaque_callback_data), to, at: r.at };
  });
}

/**
 * How long work caught by a kill waited: inbox items claimed more than once (received → done) and
 * outbox items with more than one attempt (queued → sent).
 */
export async function reclaimLatency(m: Models): Promise<Record<string, unknown>> {
  const inbox = await m.Inbox.find({ attempts: { $gt: 1 } }, { receivedAt: 1, processedAt: 1 }).lean();
  const outbox = await m.Outbox.find({ attempts: { $gt: 1 } }, { createdAt: 1, sentAt: 1 }).lean();
  const inMs = inbox.filter((d) => d.processedAt).map((d) => d.processedAt!.getTime() - d.receivedAt.getTime());
  const outMs = outbox.filter((d) => d.sentAt).map((d) => d.sentAt!.getTime() - d.createdAt.getTime());
  const all = await m.Inbox.find({ attempts: 1, state: 'done' }, { receivedAt: 1, processedAt: 1 }).lean();
  const normal = all.filter((d) => d.processedAt).map((d) => d.processedAt!.getTime() - d.receivedAt.getTime());
  return {
    inboxItemsClaimedAgainAfterAKill: { n: inMs.length, receivedToDoneMs: { p50: percentile(inMs, 50), max: inMs.length ? Math.max(...inMs) : 0 } },
    inboxItemsClaimedOnce: { n: normal.length, receivedToDoneMs: { p50: percentile(normal, 50), p99: percentile(normal, 99), max: normal.length ? Math.max(...normal) : 0 } },
    outboxItemsSentAgainAfterAKill: { n: outMs.length, queuedToSentMs: { p50: percentile(outMs, 50), max: outMs.length ? Math.max(...outMs) : 0 } },
  };
}

/** Deliveries first stored by an attempt that got no answer (killed mid-request), acknowledged by a later one. */
export async function storedBeforeAcknowledged(m: Models, driver: ConversationDriver): Promise<number> {
  const multi = driver.messages.filter((x) => x.ackedAt && x.attempts.length > 1);
  if (multi.length === 0) return 0;
  const docs = await m.Inbox.find({ _id: { $in: multi.map((x) => x.key) } }, { receivedAt: 1 }).lean();
  const at = new Map(docs.map((d) => [String(d._id), d.receivedAt.getTime()]));
  return multi.filter((x) => (at.get(x.key) ?? Infinity) < x.attempts[x.attempts.length - 1].startedAt).length;
}

export interface ConversationCheck {
  posted: number;
  acknowledged: number;
  neverAcknowledged: string[];
  postAttempts: number;
  nonOkResponses: Record<string, number>;
  inboxNotDone: { id: string; state: string; attempts: number; lastError: string | null }[];
  inboxMissing: string[];
  inboxUnexpected: string[];
  inboundMessageMissing: string[];
  inboxReclaimed: number;
  consentWrong: { waId: string; expected: string; actual: string; lastKeywords: string[] }[];
  lastKeywordStop: number;
  lastKeywordStart: number;
  outboxNotSent: { id: string; state: string; attempts: number; error: unknown }[];
  outboxReclaimedOrRetried: number;
  repliesMissingFromOutbox: string[];
  graphDelivered: number;
  graphNeverDelivered: string[];
  graphDuplicates: { key: string; times: number; firstAt: number; gapsMs: number[] }[];
  graphUnexpected: string[];
  graphWrongRecipient: string[];
  orderViolations: { waId: string; expected: string[]; seen: string[] }[];
  ledger: { entries: number; ok: boolean; broken?: string };
}

/** Every acknowledged message processed once, consent as the last keyword says, every reply sent once. */
export async function checkConversations(ins: Inspector, driver: ConversationDriver, fake: FakeGraph): Promise<ConversationCheck> {
  const { models: m, pii } = ins;
  const msgs = driver.messages;
  const acked = msgs.filter((x) => x.ackedAt);
  const nonOk: Record<string, number> = {};
  for (const r of driver.responses) {
    if (r.status === 200) continue;
    const k = r.status ? String(r.status) : (r.error ?? 'no answer');
    nonOk[k] = (nonOk[k] ?? 0) + 1;
  }

  const inbox = await m.Inbox.find({}, { _id: 1, state: 1, attempts: 1, lastError: 1 }).lean();
  const inboxById = new Map(inbox.map((d) => [String(d._id), d]));
  const inboxMissing = acked.filter((x) => !inboxById.has(x.key)).map((x) => x.id);
  const inboxNotDone = inbox
    .filter((d) => d.state !== 'done')
    .map((d) => ({ id: String(d._id), state: d.state, attempts: d.attempts ?? 0, lastError: d.lastError ?? null }));
  const posted = new Set(msgs.map((x) => x.key));
  const inboxUnexpected = inbox.filter((d) => !posted.has(String(d._id))).map((d) => String(d._id));
  const inbound = await m.Message.find({ direction: 'in' }, { _id: 1 }).lean();
  const inboundIds = new Set(inbound.map((d) => String(d._id)));
  const inboundMessageMissing = acked.filter((x) => !inboundIds.has(x.key)).map((x) => x.id);

  // Consent: the subscriber's last STOP/START decides; the brief's strict reading (last message STOP
  // or START) is the same check restricted to those subscribers.
  const consentWrong: ConversationCheck['consentWrong'] = [];
  let lastKeywordStop = 0;
  let lastKeywordStart = 0;
  for (const waId of driver.waIds()) {
    const own = acked.filter((x) => x.waId === waId).sort((a, b) => a.seq - b.seq);
    if (own.length === 0) continue;
    const last = own[own.length - 1].keyword;
    if (last === 'STOP') lastKeywordStop += 1;
    if (last === 'START') lastKeywordStart += 1;
    const lastConsent = [...own].reverse().find((x) => x.keyword === 'STOP' || x.keyword === 'START');
    const expected = !lastConsent ? 'none' : lastConsent.keyword === 'STOP' ? 'opted_out' : 'opted_in';
    const s = await m.Subscriber.findOne({ key: pii.blindIndex(`wa:${waId}`) }, { consent: 1 }).lean();
    const actual = s?.consent ?? '(no subscriber)';
    if (actual !== expected) consentWrong.push({ waId, expected, actual, lastKeywords: own.slice(-4).map((x) => `${x.seq}:${x.keyword}`) });
  }

  const outbox = await m.Outbox.find({}, { _id: 1, state: 1, attempts: 1, error: 1 }).lean();
  const outboxNotSent = outbox.filter((d) => d.state !== 'sent').map((d) => ({ id: String(d._id), state: d.state, attempts: d.attempts ?? 0, error: d.error }));
  const outboxIds = new Set(outbox.map((d) => String(d._id)));
  // Each of these keywords is answered with exactly one message, keyed `<inbox id>:0`.
  const repliesMissingFromOutbox = acked.filter((x) => !outboxIds.has(`${x.key}:0`)).map((x) => x.id);

  const deliveries = graphDeliveries(fake);
  const byKey = new Map<string, Delivery[]>();
  for (const d of deliveries) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
  const graphNeverDelivered = [...outboxIds].filter((id) => !byKey.has(id));
  const graphDuplicates = [...byKey.entries()]
    .filter(([, ds]) => ds.length > 1)
    .map(([key, ds]) => ({ key, times: ds.length, firstAt: ds[0].at, gapsMs: ds.slice(1).map((d) => d.at - ds[0].at) }));
  const graphUnexpected = [...byKey.keys()].filter((k) => !outboxIds.has(k));
  const waOf = new Map(msgs.map((x) => [x.key, x.waId]));
  const graphWrongRecipient = deliveries.filter((d) => waOf.get(d.key.replace(/:\d+$/, '')) !== d.to).map((d) => d.key);

  // Replies reach each subscriber in the order of their messages (first delivery of each key).
  const orderViolations: ConversationCheck['orderViolations'] = [];
  const firstSeen = new Map<string, string[]>();
  // Reply ids are `<inbox id>:<n>`; the inbox id is a keyed hash, so the sequence number comes from the driver.
  const seqByKey = new Map(msgs.map((x) => [x.key, x.seq]));
  const counted = new Set<string>();
  for (const d of [...deliveries].sort((a, b) => a.at - b.at)) {
    if (counted.has(d.key)) continue;
    counted.add(d.key);
    firstSeen.set(d.to, [...(firstSeen.get(d.to) ?? []), d.key]);
  }
  for (const [waId, seen] of firstSeen) {
    const seqOf = (k: string) => seqByKey.get(k.replace(/:\d+$/, '')) ?? -1;
    const sorted = [...seen].sort((a, b) => seqOf(a) - seqOf(b));
    if (sorted.join() !== seen.join()) orderViolations.push({ waId, expected: sorted, seen });
  }

  return {
    posted: msgs.length,
    acknowledged: acked.length,
    neverAcknowledged: msgs.filter((x) => !x.ackedAt).map((x) => x.id),
    postAttempts: driver.responses.length,
    nonOkResponses: nonOk,
    inboxNotDone,
    inboxMissing,
    inboxUnexpected,
    inboundMessageMissing,
    inboxReclaimed: await m.Inbox.countDocuments({ attempts: { $gt: 1 } }),
    consentWrong,
    lastKeywordStop,
    lastKeywordStart,
    outboxNotSent,
    outboxReclaimedOrRetried: await m.Outbox.countDocuments({ attempts: { $gt: 1 } }),
    repliesMissingFromOutbox,
    graphDelivered: deliveries.length,
    graphNeverDelivered,
    graphDuplicates,
    graphUnexpected,
    graphWrongRecipient,
    orderViolations,
    ledger: await checkLedger(m),
  };
}

/** The ledger chain still links after everything (entries in order, each hash matching). */
export async function checkLedger(m: Models): Promise<{ entries: number; ok: boolean; broken?: string }> {
  const entries = await m.Ledger.find({}).sort({ seq: 1 }).lean();
  let prev = GENESIS;
  let seq = 1;
  for (const e of entries) {
    const reason = e.seq !== seq ? `missing entry before ${e.seq}` : e.prevHash !== prev ? `link broken at ${e.seq}` : entryHash(e) !== e.hash ? `content changed at ${e.seq}` : null;
    if (reason) return { entries: entries.length, ok: false, broken: reason };
    prev = e.hash;
    seq += 1;
  }
  return { entries: entries.length, ok: true };
}

/** Summary lines for a check, short lists truncated. */
export function summarise(c: ConversationCheck): Record<string, unknown> {
  const short = <T>(xs: T[]) => (xs.length > 5 ? [...xs.slice(0, 5), `… ${xs.length - 5} more`] : xs);
  return {
    posted: c.posted,
    acknowledged: c.acknowledged,
    neverAcknowledged: short(c.neverAcknowledged),
    postAttempts: c.postAttempts,
    nonOkResponses: c.nonOkResponses,
    inboxMissing: short(c.inboxMissing),
    inboxNotDone: short(c.inboxNotDone),
    inboxUnexpected: short(c.inboxUnexpected),
    inboundMessageMissing: short(c.inboundMessageMissing),
    inboxReclaimedAfterLease: c.inboxReclaimed,
    subscribersLastKeywordStop: c.lastKeywordStop,
    subscribersLastKeywordStart: c.lastKeywordStart,
    consentWrong: short(c.consentWrong),
    outboxNotSent: short(c.outboxNotSent),
    outboxItemsWithMoreThanOneAttempt: c.outboxReclaimedOrRetried,
    repliesMissingFromOutbox: short(c.repliesMissingFromOutbox),
    graphDelivered: c.graphDelivered,
    graphNeverDelivered: short(c.graphNeverDelivered),
    graphDuplicates: short(c.graphDuplicates),
    graphUnexpected: short(c.graphUnexpected),
    graphWrongRecipient: short(c.graphWrongRecipient),
    orderViolations: short(c.orderViolations),
    ledger: c.ledger,
  };
}

/** Prints a scenario's figures (and keeps them as JSON beside the logs). */
export function report(scenario: string, figures: Record<string, unknown>): void {
  const file = path.join(outDir(scenario), 'figures.json');
  writeFileSync(file, JSON.stringify(figures, null, 2));
  console.log(`\n===== ${scenario} =====\n${JSON.stringify(figures, null, 2)}\n(figures: ${file})`);
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/**
 * What every conversation scenario must hold: each acknowledged message stored, processed once and
 * answered; consent as the last keyword says; replies delivered, to the right person, in order; the
 * ledger intact. `duplicatesChecked: false` when the scenario judges Graph duplicates itself.
 */
export function expectConversationsIntact(check: ConversationCheck, o: { duplicatesChecked?: boolean } = {}): void {
  expect(check.neverAcknowledged).toEqual([]);
  expect(check.inboxMissing).toEqual([]);
  expect(check.inboxNotDone).toEqual([]);
  expect(check.inboxUnexpected).toEqual([]);
  expect(check.inboundMessageMissing).toEqual([]);
  expect(check.consentWrong).toEqual([]);
  expect(check.repliesMissingFromOutbox).toEqual([]);
  expect(check.outboxNotSent).toEqual([]);
  expect(check.graphNeverDelivered).toEqual([]);
  if (o.duplicatesChecked !== false) expect(check.graphDuplicates).toEqual([]);
  expect(check.graphUnexpected).toEqual([]);
  expect(check.graphWrongRecipient).toEqual([]);
  expect(check.orderViolations).toEqual([]);
  expect(check.ledger.ok).toBe(true);
}

/** Stops the service and the fake Graph API; drops the test database unless FAULTS_KEEP_DB is set. */
export async function tearDown(r: { app?: AppProcess; ins?: Inspector; fake?: FakeGraph }): Promise<void> {
  await r.app?.stop();
  // Test databases (their names contain "test") are dropped unless FAULTS_KEEP_DB is set.
  if (!process.env.FAULTS_KEEP_DB) await r.ins?.conn.dropDatabase().catch(() => undefined);
  await r.ins?.close();
  await r.fake?.stop();
}
