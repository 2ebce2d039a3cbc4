import path from 'node:path';
import { freePort } from '../../src/db/embedded';
import { FakeGraph } from '../support/fakeGraph';
import { testDbUri } from '../support/testDb';
import { appEnv, AppProcess } from './support/appProcess';
import { checkConversations, expectConversationsIntact, summarise } from './support/checks';
import { ConversationDriver } from './support/conversationDriver';
import { graphDeliveries } from './support/graphDeliveries';
import { type Inspector, openInspector, tearDown } from './support/inspector';
import { outDir, report } from './support/report';
import { sleep, waitDrained } from './support/wait';

/**
 * Scenario 3 — the Graph API is down (every call answered 503) for 60 real seconds while people keep
 * writing. Afterwards every reply must be delivered, none twice, and in order per person.
 */
const OUTAGE_MS = Number(process.env.FAULTS_GRAPH_OUTAGE_MS ?? 60_000);

jest.setTimeout(10 * 60_000);

describe('fault: the Graph API is down for 60 s', () => {
  let fake: FakeGraph;
  let app: AppProcess;
  let ins: Inspector | undefined;

  afterAll(() => tearDown({ app, ins, fake }));

  it('delivers everything afterwards, none twice', async () => {
    const out = outDir('3-graph-outage');
    fake = await new FakeGraph().start();
    const uri = testDbUri('faultsgraph');
    const port = await freePort();
    app = new AppProcess(appEnv({ mongodbUri: uri, port, graphUrl: fake.url }), path.join(out, 'app.log'));
    await app.start();
    ins = await openInspector(uri);

    const driver = new ConversationDriver({
      baseUrl: app.url,
      numberPrefix: '1555730',
      subscribers: 20,
      seed: 7303,
      gapMs: [4000, 10000],
      maxPerSubscriber: 400,
      redeliveryRate: 0.2,
    });
    const t0 = Date.now();
    driver.start();

    await sleep(10_000);
    const down = Date.now();
    fake.setDown(true);
    // Largest outbox backlog seen while down.
    let maxOpen = 0;
    while (Date.now() - down < OUTAGE_MS) {
      await sleep(2000);
      maxOpen = Math.max(maxOpen, await ins.models.Outbox.countDocuments({ state: { $in: ['pending', 'sending'] } }));
    }
    fake.setDown(false);
    const up = Date.now();
    const queuedWhileDown = await ins.models.Outbox.countDocuments({ createdAt: { $lt: new Date(up) }, state: { $in: ['pending', 'sending'] } });

    await sleep(10_000);
    await driver.stop();
    const streamEnded = Date.now();
    const drained = await waitDrained(ins.models, 180_000);
    await sleep(1000);
    const check = await checkConversations(ins, driver, fake);

    const callsWhileDown = fake.requests.filter((r) => r.at >= down && r.at < up).length;
    const outbox = await ins.models.Outbox.find({}, { _id: 1, attempts: 1, createdAt: 1, sentAt: 1 }).lean();
    const maxAttempts = Math.max(0, ...outbox.map((o) => o.attempts ?? 0));
    // When was the backlog of the outage delivered?
    const backlogIds = new Set(outbox.filter((o) => o.createdAt < new Date(up) && (!o.sentAt || o.sentAt >= new Date(down))).map((o) => String(o._id)));
    const backlogDeliveries = graphDeliveries(fake).filter((d) => backlogIds.has(d.key));
    const lastBacklogDelivery = backlogDeliveries.length ? Math.max(...backlogDeliveries.map((d) => d.at)) : up;
    const firstAfterUp = graphDeliveries(fake)
      .filter((d) => d.at >= up)
      .sort((a, b) => a.at - b.at)[0];

    report('3-graph-outage', {
      outageMs: up - down,
      graphCallsWhileDown: callsWhileDown,
      outboxBacklogMaxWhileDown: maxOpen,
      outboxOpenWhenGraphCameBack: queuedWhileDown,
      repliesCaughtInTheOutage: backlogIds.size,
      msFromGraphUpToFirstDelivery: firstAfterUp ? firstAfterUp.at - up : null,
      msFromGraphUpToOutageBacklogDelivered: lastBacklogDelivery - up,
      maxSendAttemptsOfOneReply: maxAttempts,
      unexpectedExits: app.unexpectedExits,
      crashLines: app.crashes.slice(0, 10),
      stderrLines: app.stderr.slice(0, 10),
      acknowledgedPerSecond: Number((driver.messages.filter((m) => m.ackedAt).length / ((streamEnded - t0) / 1000)).toFixed(1)),
      recovery: {
        drained: drained.drained,
        msFromStreamStopToDrained: drained.ms,
        msFromGraphUpToDrained: streamEnded + drained.ms - up,
        leftOpen: drained.last,
      },
      ...summarise(check),
      logs: app.logFile,
    });

    expect(callsWhileDown).toBeGreaterThan(0);
    expect(backlogIds.size).toBeGreaterThan(0);
    expect(app.unexpectedExits).toEqual([]);
    expect(app.crashes).toEqual([]);
    expect(drained.drained).toBe(true);
    expectConversationsIntact(check);
  });
});
