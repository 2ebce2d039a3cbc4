import http from 'node:http';
import path from 'node:path';
import { freePort } from '../../src/db/embedded';
import { FakeGraph } from '../support/fakeGraph';
import { testDbUri } from '../support/testDb';
import { envelope, messagesChange, signed, textMessage } from '../support/whatsapp';
import { appEnv, AppProcess } from './support/appProcess';
import { httpGet, postSigned, type PostResult } from './support/http';
import { type Inspector, openInspector, tearDown } from './support/inspector';
import { outDir, percentile, report } from './support/report';
import { sleep } from './support/wait';

/**
 * Scenario 6 — nobody reads the service's stdout (a stalled log shipper: Docker's log drivers block
 * by default). At LOG_LEVEL=debug every delivery logs, so signed deliveries fill the pipe and then
 * the service's own bounded backlog (src/lib/logger.ts). From then on deliveries must still be
 * acknowledged, /healthz must answer, /metrics must count the dropped lines, and SIGTERM must still
 * stop the process within 10 s. With pino's default destination the lines pile up in memory without
 * bound (nothing is dropped or counted), and on SIGTERM the exit-time flush retries the full pipe
 * forever: the process only ends with AppProcess.stop's SIGKILL after 12 s.
 */
const CONCURRENCY = 8;
/** Deliveries posted once lines are being dropped, and the most time they may take. */
const WHILE_FULL = 200;
const WHILE_FULL_MS = 15_000;
/**
 * The most time for filling the pipe and the backlog (about 1.3 MB of log lines). The fill ends as
 * soon as lines are dropped; on the 2-core CI machine that takes 43–46 s (about 60 deliveries a
 * second), so the bound leaves room rather than deciding the outcome.
 */
const FILL_MS = 120_000;
const POST_TIMEOUT_MS = 5000;

jest.setTimeout(4 * 60_000);

/** One metric's value from /metrics (undefined: no answer, e.g. an event loop blocked on stdout). */
function metricValue(baseUrl: string, name: string, timeoutMs = 2000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(`${baseUrl}/metrics`, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(body);
        resolve(m ? Number(m[1]) : undefined);
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
  });
}

describe('fault: nobody reads stdout', () => {
  let fake: FakeGraph;
  let app: AppProcess;
  let ins: Inspector | undefined;

  afterAll(() => tearDown({ app, ins, fake }));

  it('keeps acknowledging deliveries, counts the dropped log lines, and stops on SIGTERM', async () => {
    const out = outDir('6-stalled-stdout');
    fake = await new FakeGraph().start();
    const uri = testDbUri('faultsstdout');
    const port = await freePort();
    app = new AppProcess(appEnv({ mongodbUri: uri, port, graphUrl: fake.url, extra: { LOG_LEVEL: 'debug' } }), path.join(out, 'app.log'), {
      stdout: 'unread',
    });
    await app.start();
    ins = await openInspector(uri);
    const life = app.lives[app.lives.length - 1];

    let seq = 0;
    const post = () => {
      seq += 1;
      const waId = `1555760${String(seq % 1000).padStart(4, '0')}`;
      const { raw, signature } = signed(envelope(messagesChange({ waId }, [textMessage(`hello ${seq}`)])));
      return postSigned(app.url, raw, signature, POST_TIMEOUT_MS);
    };
    /** CONCURRENCY posters until `done()`; an unanswered delivery ends the run too. */
    const pump = async (into: PostResult[], done: () => boolean) => {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (!done() && !into.some((r) => r.status === 0)) into.push(await post());
        }),
      );
    };

    // Fill: post until the service reports dropped lines (the pipe and its backlog are full).
    const t0 = Date.now();
    const filling: PostResult[] = [];
    let droppedWhenFull: number | undefined;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const v = await metricValue(app.url, 'log_lines_dropped_total');
        if (v !== undefined && v > 0 && droppedWhenFull === undefined) droppedWhenFull = v;
        await sleep(250);
      }
    })();
    await pump(filling, () => droppedWhenFull !== undefined || Date.now() - t0 > FILL_MS);
    polling = false;
    await poller;
    const full = Date.now();

    // While full: more deliveries, /healthz, and the count must keep growing.
    const whileFull: PostResult[] = [];
    await pump(whileFull, () => whileFull.length >= WHILE_FULL || Date.now() - full > WHILE_FULL_MS);
    const healthz = await httpGet(`${app.url}/healthz`, 3000);
    const droppedAfter = await metricValue(app.url, 'log_lines_dropped_total');
    // What the test side holds unread (node reads ahead up to its high-water mark, then stops).
    const unreadOnOurSide = app.child?.stdout?.readableLength;

    // SIGTERM (AppProcess.stop sends SIGKILL after 12 s).
    const termAt = Date.now();
    await app.stop();
    const exitMs = (life.endedAt ?? Date.now()) - termAt;

    const latencies = whileFull.filter((r) => r.status === 200).map((r) => r.endedAt - r.startedAt);
    const count = (xs: PostResult[]) =>
      xs.reduce<Record<string, number>>((acc, r) => {
        const k = r.status ? String(r.status) : (r.error ?? 'no answer');
        acc[k] = (acc[k] ?? 0) + 1;
        return acc;
      }, {});
    report('6-stalled-stdout', {
      fillMs: full - t0,
      deliveriesToFill: count(filling),
      droppedWhenFull: droppedWhenFull ?? null,
      deliveriesWhileFull: count(whileFull),
      ackLatencyWhileFullMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.length ? Math.max(...latencies) : 0 },
      healthzWhileFull: healthz.status || healthz.error,
      droppedAfter: droppedAfter ?? null,
      unreadBytesOnTheTestSide: unreadOnOurSide,
      exitMsAfterSigterm: exitMs,
      exit: life.how,
      unexpectedExits: app.unexpectedExits,
      crashLines: app.crashes.slice(0, 10),
      stderrLines: app.stderr.slice(0, 10),
      logs: app.logFile,
    });

    expect(droppedWhenFull).toBeGreaterThan(0);
    expect(count(filling)).toEqual({ 200: filling.length });
    expect(whileFull.length).toBeGreaterThanOrEqual(WHILE_FULL);
    expect(count(whileFull)).toEqual({ 200: whileFull.length });
    expect(healthz.status).toBe(200);
    // Lines kept being dropped while those deliveries were acknowledged: the pipe stayed full.
    expect(droppedAfter).toBeGreaterThan(droppedWhenFull ?? Infinity);
    expect(life.how).toBe('exit 0');
    expect(exitMs).toBeLessThan(10_000);
    expect(app.unexpectedExits).toEqual([]);
    expect(app.crashes).toEqual([]);
  });
});
