import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startEmbeddedDb, type EmbeddedDb } from '../../src/db/embedded';
import { FakeGraph } from '../support/fakeGraph';
import { appEnv, AppProcess } from './support/appProcess';
import { checkConversations, expectConversationsIntact, summarise } from './support/checks';
import { ConversationDriver } from './support/conversationDriver';
import { httpGet, type PostResult } from './support/http';
import { type Inspector, openInspector } from './support/inspector';
import { outDir, percentile, report } from './support/report';
import { sleep, waitDrained } from './support/wait';

/**
 * Scenario 2 — the database stops for 10 s in the middle of the stream (a private embedded FerretDB,
 * stopped with its handle and started again on the same port and folder). The webhook must answer
 * 503 and never 200 while nothing can be stored, nothing acknowledged may be lost, and the same
 * process must carry on by itself once the database is back.
 */
const OUTAGE_MS = 10_000;

jest.setTimeout(10 * 60_000);

describe('fault: the database stops for 10 s', () => {
  let db: EmbeddedDb | undefined;
  let dir: string;
  let fake: FakeGraph;
  let app: AppProcess;
  let ins: Inspector | undefined;

  afterAll(async () => {
    await app?.stop();
    await ins?.close().catch(() => undefined);
    await fake?.stop();
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 (never 200) while the database is down, loses nothing, and recovers without a restart', async () => {
    const out = outDir('2-db-outage');
    dir = mkdtempSync(path.join(os.tmpdir(), 'privacybot-faults-db-'));
    const dbPort = await freePort();
    db = await startEmbeddedDb({ dir, port: dbPort, dbName: 'test_faults_dboutage' });
    fake = await new FakeGraph().start();
    const port = await freePort();
    app = new AppProcess(appEnv({ mongodbUri: db.uri, port, graphUrl: fake.url }), path.join(out, 'app.log'));
    await app.start();
    const pid = app.pid;
    ins = await openInspector(db.uri);

    const driver = new ConversationDriver({
      baseUrl: app.url,
      numberPrefix: '1555720',
      subscribers: 20,
      seed: 7202,
      gapMs: [3000, 8000],
      maxPerSubscriber: 400,
      retryMs: 250,
      redeliveryRate: 0.3,
    });
    const t0 = Date.now();
    driver.start();

    // Probes of /healthz and /readyz all along.
    const probes: { at: number; healthz: number; readyz: number }[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const [h, r] = await Promise.all([httpGet(`${app.url}/healthz`, 3000), httpGet(`${app.url}/readyz`, 3000)]);
        probes.push({ at: Date.now(), healthz: h.status, readyz: r.status });
        await sleep(500);
      }
    })();

    await sleep(12_000);
    const downRequested = Date.now();
    await db.stop();
    const down = Date.now(); // nothing can be stored from here…
    await sleep(OUTAGE_MS); // 10 s with the server gone (its graceful stop took dbStopTookMs before that)
    const upRequested = Date.now(); // …to here
    db = await startEmbeddedDb({ dir, port: dbPort, dbName: 'test_faults_dboutage' });
    const up = Date.now();

    await sleep(15_000);
    await driver.stop();
    const streamEnded = Date.now();
    const drained = await waitDrained(ins.models, 180_000);
    probing = false;
    await prober;
    await sleep(1000);
    const check = await checkConversations(ins, driver, fake);

    const all: PostResult[] = [...driver.responses, ...driver.redeliveries];
    const within = (r: PostResult) => r.startedAt >= down && r.endedAt <= upRequested;
    const during = all.filter(within);
    // Started while the server was shutting down, or started while it was gone and answered after.
    const whileStopping = all.filter((r) => r.startedAt < down && r.endedAt >= downRequested);
    const straddling = all.filter((r) => r.startedAt >= down && r.startedAt <= upRequested && r.endedAt > upRequested);
    const count = (xs: PostResult[]) =>
      xs.reduce<Record<string, number>>((acc, r) => {
        const k = r.status ? String(r.status) : (r.error ?? 'no answer');
        acc[k] = (acc[k] ?? 0) + 1;
        return acc;
      }, {});
    const firstOkAfterUp = all.filter((r) => r.status === 200 && r.startedAt >= up).sort((a, b) => a.endedAt - b.endedAt)[0];
    const during503 = during.filter((r) => r.status === 503).map((r) => r.endedAt - r.startedAt);
    const probesDuring = probes.filter((p) => p.at >= down + 3000 && p.at <= upRequested);
    const firstReadyAfterUp = probes.find((p) => p.at >= up && p.readyz === 200);
    const acked = driver.messages.filter((m) => m.ackedAt);

    report('2-db-outage', {
      outageMs: upRequested - down,
      dbStopTookMs: down - downRequested,
      dbStartTookMs: up - upRequested,
      sameProcess: app.pid === pid && app.alive && app.lives.length === 1,
      unexpectedExits: app.unexpectedExits,
      crashLines: app.crashes.slice(0, 10),
      stderrLines: app.stderr.slice(0, 10),
      webhookAnswersWhileDown: count(during),
      webhookAnswersWhileTheServerWasStopping: count(whileStopping),
      webhookAnswersStartedWhileDownAnsweredAfter: count(straddling),
      latencyOf503WhileDownMs: { p50: percentile(during503, 50), max: during503.length ? Math.max(...during503) : 0, n: during503.length },
      probesWhileDown: {
        healthz: count(probesDuring.map((p) => ({ status: p.healthz }) as PostResult)),
        readyz: count(probesDuring.map((p) => ({ status: p.readyz }) as PostResult)),
      },
      msFromDbUpToFirst200: firstOkAfterUp ? firstOkAfterUp.endedAt - up : null,
      msFromDbUpToReadyz200: firstReadyAfterUp ? firstReadyAfterUp.at - up : null,
      acknowledgedPerSecond: Number((acked.length / ((streamEnded - t0) / 1000)).toFixed(1)),
      redeliveriesOfAcknowledged: { posted: driver.redeliveries.length, answered200: driver.redeliveries.filter((x) => x.status === 200).length },
      recovery: { drained: drained.drained, msFromStreamStopToDrained: drained.ms, msFromDbUpToDrained: streamEnded + drained.ms - up, leftOpen: drained.last },
      ...summarise(check),
      logs: app.logFile,
    });

    expect(app.unexpectedExits).toEqual([]);
    expect(app.crashes).toEqual([]);
    expect(app.lives).toHaveLength(1);
    expect(app.pid).toBe(pid);
    expect(during.length).toBeGreaterThan(0);
    // Never a 200 for a delivery that arrived and was answered while nothing could be stored.
    expect(during.filter((r) => r.status === 200)).toEqual([]);
    expect(during.filter((r) => r.status >= 500 && r.status !== 503)).toEqual([]);
    expect(during.filter((r) => r.status === 503).length).toBeGreaterThan(0);
    expect(probesDuring.every((p) => p.healthz === 200)).toBe(true);
    expect(firstOkAfterUp).toBeDefined();
    expect(drained.drained).toBe(true);
    expectConversationsIntact(check);
  });
});
