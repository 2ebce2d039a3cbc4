import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../src/db/embedded';
import { FakeGraph } from '../support/fakeGraph';
import { testDbUri } from '../support/testDb';
import { fuzzCorpus, type FuzzCase } from './fuzz';
import { appEnv, AppProcess } from './support/appProcess';
import { graphDeliveries } from './support/graphDeliveries';
import { httpGet, httpPost } from './support/http';
import { type Inspector, openInspector, tearDown } from './support/inspector';
import { outDir, percentile, report } from './support/report';
import { sleep } from './support/wait';
import { at } from '../../src/privacy/pii';

/**
 * Scenario 4 — fuzz: at least 10,000 mutated, validly signed deliveries posted to POST /webhook.
 * The process must stay up and healthy, never answer 5xx, store nothing malformed, and its worker
 * must not crash on what was stored. What the worker could not process is reported.
 */
const COUNT = Number(process.env.FAULTS_FUZZ_COUNT ?? 10_000);
const SEED = Number(process.env.FAULTS_FUZZ_SEED ?? 20261129);
const CONCURRENCY = 4;
const WORKER_SLICE = Number(process.env.FAULTS_FUZZ_WORKER_SLICE ?? 300);
const WORKER_WAIT_MS = Number(process.env.FAULTS_FUZZ_WORKER_WAIT_MS ?? 200_000);
const STATES = new Set(['pending', 'processing', 'done', 'failed', 'ignored', 'erased']);

jest.setTimeout(15 * 60_000);

describe('fault: fuzzed webhook deliveries', () => {
  let fake: FakeGraph;
  let app: AppProcess;
  let ins: Inspector | undefined;

  afterAll(() => tearDown({ app, ins, fake }));

  it(`${COUNT} mutated, signed payloads: no crash, no 5xx, nothing malformed stored`, async () => {
    const out = outDir('4-fuzz');
    fake = await new FakeGraph().start();
    const uri = testDbUri('faultsfuzz');
    const port = await freePort();
    app = new AppProcess(appEnv({ mongodbUri: uri, port, graphUrl: fake.url }), path.join(out, 'app.log'));
    await app.start();
    const pid = app.pid;
    ins = await openInspector(uri);

    const byStatus: Record<string, number> = {};
    const byStatusAndMutation: Record<string, Record<string, number>> = {};
    const serverErrors: { n: number; base: string; mutations: string[]; status: number; error?: string; bytes: number }[] = [];
    const latencies: number[] = [];
    let bytes = 0;
    let healthFailures = 0;
    const corpus = fuzzCorpus(SEED, COUNT);
    const t0 = Date.now();

    const poster = (limit: number) => async () => {
      for (;;) {
        if (posted >= limit || !app.alive) return;
        posted += 1;
        const next = corpus.next();
        if (next.done) return;
        const c: FuzzCase = next.value;
        bytes += c.raw.length;
        const res = await httpPost(`${app.url}/webhook`, c.raw, { 'content-type': 'application/json', 'x-hub-signature-256': c.signature }, 30_000);
        latencies.push(res.endedAt - res.startedAt);
        const key = res.status ? String(res.status) : `no answer (${res.error})`;
        byStatus[key] = (byStatus[key] ?? 0) + 1;
        for (const m of c.mutations) {
          const kind = m.split(' ')[0].split('=')[0];
          byStatusAndMutation[kind] ??= {};
          byStatusAndMutation[kind][key] = (byStatusAndMutation[kind][key] ?? 0) + 1;
        }
        if (res.status === 0 || res.status >= 500) {
          serverErrors.push({ n: c.n, base: c.base, mutations: c.mutations, status: res.status, error: res.error, bytes: c.raw.length });
          if (serverErrors.length <= 25) writeFileSync(path.join(out, `5xx-case-${c.n}.json`), c.raw);
        }
        if (c.n % 500 === 0 && (await httpGet(`${app.url}/healthz`, 5000)).status !== 200) healthFailures += 1;
      }
    };
    let posted = 0;

    // Phase 1: a first slice, small enough for the worker to process all of it here (the embedded
    // database processes a few items a second, see the report); wait until nothing is pending.
    await Promise.all(Array.from({ length: CONCURRENCY }, poster(WORKER_SLICE)));
    const w0 = Date.now();
    const slice = {
      payloads: posted,
      stored: await ins.models.Inbox.countDocuments(),
      waitedMs: 0,
      states: {} as Record<string, number>,
      drained: false,
      pendingBlockedBehindAFailingItem: 0,
    };
    // Pending items queued behind an earlier item of the same person that keeps failing wait for it
    // to give up (8 attempts, minutes): they are blocked, not forgotten; counted apart.
    const blockedPending = async () => {
      const pending = await ins!.models.Inbox.find({ state: 'pending' }, { subscriberKey: 1, order: 1 }).lean();
      let blocked = 0;
      for (const p of pending) {
        if (!p.subscriberKey) continue;
        const head = await ins!.models.Inbox.findOne(
          { subscriberKey: p.subscriberKey, order: { $lt: p.order }, state: 'processing', lastError: { $ne: null } },
          { _id: 1 },
        ).lean();
        if (head) blocked += 1;
      }
      return { pending: pending.length, blocked };
    };
    let pendingNow = { pending: -1, blocked: 0 };
    while (Date.now() - w0 < WORKER_WAIT_MS && app.alive) {
      pendingNow = await blockedPending();
      if (pendingNow.pending === pendingNow.blocked) {
        slice.drained = true;
        break;
      }
      await sleep(2000);
    }
    slice.waitedMs = Date.now() - w0;
    slice.pendingBlockedBehindAFailingItem = pendingNow.blocked;
    for (const d of await ins.models.Inbox.find({}, { state: 1 }).lean()) slice.states[d.state] = (slice.states[d.state] ?? 0) + 1;

    // Phase 2: the rest of the corpus; the worker keeps running on it in the background.
    const t2 = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, poster(COUNT)));
    const postedMs = Date.now() - t2 + (w0 - t0);
    const aliveAfterPosting = app.alive && app.pid === pid;
    const healthz = (await httpGet(`${app.url}/healthz`, 5000)).status;
    await sleep(5000);
    const healthzAfterWorker = (await httpGet(`${app.url}/healthz`, 5000)).status;
    const storedAfterPosting = await ins.models.Inbox.countDocuments();
    const lastPending = await ins.models.Inbox.countDocuments({ state: 'pending' });

    // Every stored inbox document, raw (no mongoose casting): is it well-formed?
    const malformed: { id: unknown; problems: string[] }[] = [];
    const states: Record<string, number> = {};
    const fields: Record<string, number> = {};
    const failing: Record<string, { count: number; ids: string[]; state: string }> = {};
    const coll = ins.conn.db!.collection('inbox');
    let stored = 0;
    for await (const d of coll.find<Record<string, any>>({})) {
      stored += 1;
      const problems: string[] = [];
      if (typeof d._id !== 'string' || (d._id as string).length === 0) problems.push(`_id ${typeof d._id}`);
      if (!STATES.has(d.state)) problems.push(`state ${JSON.stringify(d.state)}`);
      if (typeof d.field !== 'string') problems.push(`field ${typeof d.field}`);
      if (typeof d.type !== 'string') problems.push(`type ${typeof d.type}`);
      if (typeof d.order !== 'number' || !Number.isFinite(d.order)) problems.push(`order ${JSON.stringify(d.order)}`);
      if (!(d.receivedAt instanceof Date)) problems.push('receivedAt not a date');
      if (d.subscriberKey !== null && typeof d.subscriberKey !== 'string') problems.push(`subscriberKey ${typeof d.subscriberKey}`);
      if (d.state === 'erased') {
        if (d.payloadEnc != null || d.subscriberKey != null) problems.push('erased item still holds data');
      } else if (typeof d.payloadEnc !== 'string') problems.push('payloadEnc missing');
      else {
        try {
          const p = JSON.parse(ins.pii.decrypt(d.payloadEnc, at('inbox', 'payloadEnc', d._id)));
          if (typeof p !== 'object' || p === null || typeof p.field !== 'string') problems.push('payload without field');
        } catch (e) {
          problems.push(`payload unreadable: ${(e as Error).message}`);
        }
      }
      if (problems.length) malformed.push({ id: d._id, problems });
      states[d.state] = (states[d.state] ?? 0) + 1;
      fields[String(d.field).slice(0, 40)] = (fields[String(d.field).slice(0, 40)] ?? 0) + 1;
      if (d.lastError || d.state === 'failed' || (d.state === 'processing' && d.attempts > 1)) {
        const k = String(d.lastError ?? '(no error recorded)').slice(0, 120);
        failing[k] ??= { count: 0, ids: [], state: d.state };
        failing[k].count += 1;
        if (failing[k].ids.length < 3) failing[k].ids.push(String(d._id).slice(0, 80));
      }
    }

    // Who did the worker create, and what did it send? Numbers that are not numbers are worth a look.
    const subs = await ins.models.Subscriber.find({}, { waIdEnc: 1 }).lean();
    const oddNumbers = subs
      .map((s) => (s.waIdEnc ? ins!.pii.decrypt(s.waIdEnc, at('subscribers', 'waIdEnc', s._id)) : null))
      .filter((w) => w !== null && !/^\d{6,15}$/.test(w));
    const sentTo = graphDeliveries(fake).map((d) => d.to);
    const oddRecipients = sentTo.filter((t) => !/^\d{6,15}$/.test(t) && !t.startsWith('bsuid:'));
    const workerErrors: Record<string, number> = {};
    for (const line of readFileSync(app.logFile, 'utf8').split('\n')) {
      const m = /"msg":"([^"]+)"/.exec(line);
      const e = /"message":"([^"]{0,100})/.exec(line);
      if (m && line.includes('"level":50')) workerErrors[`${m[1]}: ${e?.[1] ?? ''}`] = (workerErrors[`${m[1]}: ${e?.[1] ?? ''}`] ?? 0) + 1;
    }

    report('4-fuzz', {
      seed: SEED,
      payloads: posted,
      megabytesPosted: Number((bytes / 1e6).toFixed(1)),
      postingSeconds: Math.round(postedMs / 1000),
      payloadsPerSecond: Number((posted / (postedMs / 1000)).toFixed(1)),
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) },
      answers: byStatus,
      answersByMutation: byStatusAndMutation,
      serverErrorsOrNoAnswer: serverErrors.length,
      serverErrorSamples: serverErrors.slice(0, 15),
      processAlive: aliveAfterPosting && app.alive,
      healthzAfterPosting: healthz,
      healthzAfterWorker,
      healthFailuresDuringPosting: healthFailures,
      unexpectedExits: app.unexpectedExits,
      crashLines: app.crashes.slice(0, 10),
      stderrLines: app.stderr.slice(0, 10),
      workerSlice: slice,
      inbox: { storedAfterPosting, stored, states, fields, pendingLeftAfterAll: lastPending },
      malformedInboxDocs: malformed.length,
      malformedSamples: malformed.slice(0, 10),
      itemsFailingInTheWorker: failing,
      errorLogLines: workerErrors,
      subscribersCreated: subs.length,
      subscribersWithOddNumbers: { count: oddNumbers.length, samples: oddNumbers.slice(0, 5).map((w) => JSON.stringify(w).slice(0, 60)) },
      graphSends: sentTo.length,
      graphSendsToOddRecipients: { count: oddRecipients.length, samples: oddRecipients.slice(0, 5).map((w) => JSON.stringify(w).slice(0, 60)) },
      cases5xx: `${out}/5xx-case-<n>.json (raw bodies, signed with the test secret)`,
      logs: app.logFile,
    });

    expect(app.unexpectedExits).toEqual([]);
    expect(app.crashes).toEqual([]);
    expect(aliveAfterPosting).toBe(true);
    expect(healthz).toBe(200);
    expect(healthzAfterWorker).toBe(200);
    expect(healthFailures).toBe(0);
    expect(posted).toBe(COUNT);
    expect(slice.drained).toBe(true);
    // Counts and a few samples (the full lists are in figures.json and the 5xx-case-*.json files).
    expect({
      serverErrors: serverErrors.length,
      serverErrorSamples: serverErrors.slice(0, 3),
      malformedInboxDocs: malformed.length,
      malformedSamples: malformed.slice(0, 3),
    }).toEqual({ serverErrors: 0, serverErrorSamples: [], malformedInboxDocs: 0, malformedSamples: [] });
  });
});
