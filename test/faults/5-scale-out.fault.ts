import { FakeGraph } from '../support/fakeGraph';
import { testDbUri } from '../support/testDb';
import { type AppProcess, startReplicas } from './support/appProcess';
import { checkConversations, expectConversationsIntact, reclaimLatency, storedBeforeAcknowledged, summarise } from './support/checks';
import { ConversationDriver } from './support/conversationDriver';
import { type Inspector, openInspector, tearDown } from './support/inspector';
import { WorkShare } from './support/metrics';
import { between, rng } from './support/random';
import { outDir, report } from './support/report';
import { sleep, waitDrained } from './support/wait';

/**
 * Scenario 5 — scale-out. Three replicas of the service on ONE database, their workers all claiming
 * from the same inbox and outbox, behind a round-robin load balancer: each delivery goes to the
 * next replica, redeliveries to another one than the first time. Mid-stream one replica is
 * SIGKILLed (a few ms into a delivery it is serving), left out of rotation, then restarted and put
 * back. Then: every message processed once, replies in each person's order, every confirmation
 * sent once, nothing lost or stuck, the ledger chain (written by three processes at once) intact.
 */
const REPLICAS = Number(process.env.FAULTS_SCALE_REPLICAS ?? 3);
const PEOPLE = Number(process.env.FAULTS_SCALE_PEOPLE ?? 48);

// Short conversations, each line answered by exactly one message keyed `<inbox id>:0` (what the
// check counts on; MY DATA adds its two documents as `:1` and `:2`). One free-text line each: the
// "I did not understand" hint is sent at most once a day per person (chat/handleMessage.ts).
const ASK = 'Is my parcel on its way?';
const SCRIPTS: readonly (readonly string[])[] = [
  ['START', ASK, 'STOP', 'MY DATA'],
  ['START', 'STATUS', ASK, 'STOP', 'STATUS'],
  ['HELP', 'START', ASK, 'STATUS'],
  ['START', 'STOP', 'START', ASK, 'STATUS'],
];

// The load balancer's health check notices a dead replica after this long (until then deliveries
// sent to it are refused and posted again, to the next one).
const LB_NOTICE_MS = 1000;
const DOWN_MS = 6000;

jest.setTimeout(5 * 60_000);

describe('fault: three replicas on one database, one killed and restarted', () => {
  let fake: FakeGraph;
  let apps: AppProcess[] = [];
  let ins: Inspector | undefined;
  let share: WorkShare | undefined;

  afterAll(async () => {
    share?.stop();
    await tearDown({ apps, ins, fake });
  });

  it(`${REPLICAS} replicas share the work: every message processed once, every reply sent once, in order`, async () => {
    const tStart = Date.now();
    const out = outDir('5-scale-out');
    fake = await new FakeGraph().start();
    const uri = testDbUri('faultsscale');
    const started = await startReplicas(REPLICAS, { mongodbUri: uri, graphUrl: fake.url, logDir: out });
    apps = started.apps;
    ins = await openInspector(uri);
    share = new WorkShare(apps);
    share.start();

    const driver = new ConversationDriver({
      baseUrl: apps[0].url,
      targets: apps.map((a) => a.url),
      numberPrefix: '1555750',
      subscribers: PEOPLE,
      seed: 5005,
      // 216 messages at 3-4 a second in all, for about a minute: room to kill and restart mid-stream
      // and for the killed replica's leases (30 s) to run out before the stream ends.
      gapMs: [6000, 12000],
      maxPerSubscriber: Math.max(...SCRIPTS.map((s) => s.length)),
      redeliveryRate: 0.3,
      script: (_waId, i) => SCRIPTS[i % SCRIPTS.length],
    });
    const t0 = Date.now();
    driver.start();

    // Mid-stream: kill the middle replica a few ms after a delivery to it starts: while it stores the
    // delivery, or while its own worker (kicked by that store) claims and handles the item.
    const r = rng(5150);
    const victim = apps[Math.floor(REPLICAS / 2)];
    const others = apps.filter((a) => a !== victim);
    await sleep(12_000);
    await share.scrapeNow();
    await Promise.race([driver.nextAttempt(victim.url), sleep(5000)]);
    await sleep(between(r, 0, 60));
    const killedPid = victim.pid;
    const killAt = Date.now();
    await victim.kill9();
    await sleep(LB_NOTICE_MS);
    driver.setTargets(others.map((a) => a.url));
    await sleep(DOWN_MS);
    const restartedAt = Date.now();
    const restartMs = await victim.start();
    driver.setTargets(apps.map((a) => a.url));
    const backAt = Date.now();

    await driver.finished();
    const streamEnded = Date.now();
    const drained = await waitDrained(ins.models, 120_000);
    share.stop();
    await share.scrapeNow();
    // The fake Graph may still be answering the last sends: a short settle.
    await sleep(1000);
    const check = await checkConversations(ins, driver, fake);
    const m = ins.models;

    // Work claimed a second time must be what the killed replica held: claimed before the kill (its
    // lease then ran out). Anything received later and claimed twice means two live replicas took
    // the same item. (Two claims at the same moment may leave `attempts` at 1: the replicas'
    // counters below see those.)
    const inboxAgain = await m.Inbox.find({ attempts: { $gt: 1 } }, { receivedAt: 1, attempts: 1 }).lean();
    const outboxAgain = await m.Outbox.find({ attempts: { $gt: 1 } }, { createdAt: 1, attempts: 1 }).lean();
    // `attempts` counts the lease an item is born with when its writer's worker took it into hand
    // (src/lib/handOver.ts): such an item claimed once more (it waited behind the person's item that
    // the killed replica held) has two attempts and one claim. Two claims by insert are two takers.
    const claimIds = (await m.Claim.find({}, { _id: 1 }).lean()).map((c) => String(c._id));
    const claimsOf = (queue: string, id: string) => claimIds.filter((c) => c.startsWith(`${queue}:${id}:`)).length;
    const inboxClaimedTwiceWithoutAKill = inboxAgain
      .filter((d) => d.receivedAt.getTime() > killAt && claimsOf('inbox', String(d._id)) > 1)
      .map((d) => ({ id: String(d._id), attempts: d.attempts }));
    const outboxClaimedTwiceWithoutAKill = outboxAgain
      .filter((d) => d.createdAt.getTime() > killAt && claimsOf('outbox', String(d._id)) > 1)
      .map((d) => ({ id: String(d._id), attempts: d.attempts }));
    // A second send of one reply is explained only by the kill landing after Graph accepted the first
    // copy and before the replica recorded it (the inherent window, as in 1-kill9).
    const dupExplained = check.graphDuplicates.map((d) => ({
      ...d,
      killedMsAfterGraphAccepted: killAt >= d.firstAt && killAt - d.firstAt < 2000 ? killAt - d.firstAt : null,
    }));
    const unexplained = dupExplained.filter((d) => d.killedMsAfterGraphAccepted === null);

    const acked = driver.messages.filter((x) => x.ackedAt);
    const inboundLines = await m.Message.countDocuments({ direction: 'in' });
    const outboxIds = (await m.Outbox.find({}, { _id: 1 }).lean()).map((d) => String(d._id));
    const outboundLines = new Set((await m.Message.find({ direction: 'out' }, { _id: 1 }).lean()).map((d) => String(d._id)));
    const ackedByRestarted = acked.filter((x) => x.ackedBy === victim.url && x.attempts[x.attempts.length - 1].startedAt >= backAt).length;
    const work = share.summary({
      deliveriesStored: 'webhook_deliveries_total{outcome="stored"}',
      deliveriesDuplicate: 'webhook_deliveries_total{outcome="duplicate"}',
      inboxItemsDone: 'inbox_processed_total{outcome="done"}',
      inboxItemsRetried: 'inbox_processed_total{outcome="retry"}',
      graphSends: 'graph_sends_total{outcome="sent",code=""}',
    });
    // Each replica counts the items it finished; the sum can only fall short of the truth (a killed
    // life's last second is not scraped, and an item it did not finish is not counted), so any
    // excess over the items done is an item processed by two replicas.
    const inboxDone = await m.Inbox.countDocuments({ state: 'done' });
    const inboxProcessedMoreThanOnce = Math.max(0, work.perReplica.reduce((n, w) => n + w.inboxItemsDone, 0) - inboxDone);
    const exits = apps.flatMap((a) => a.unexpectedExits);
    const crashes = apps.flatMap((a) => a.crashes);

    report('5-scale-out', {
      replicas: REPLICAS,
      people: PEOPLE,
      startupMs: started.startupMs,
      kill: {
        replica: apps.indexOf(victim),
        pid: killedPid,
        secondsIntoStream: Number(((killAt - t0) / 1000).toFixed(1)),
        downMs: restartedAt + restartMs - killAt,
        restartMs,
        ackedByItsNextLife: ackedByRestarted,
      },
      unexpectedExits: exits,
      crashLines: crashes.slice(0, 10),
      stderrLines: apps.flatMap((a) => a.stderr).slice(0, 10),
      streamSeconds: Math.round((streamEnded - t0) / 1000),
      acknowledgedPerSecond: Number((acked.length / ((streamEnded - t0) / 1000)).toFixed(1)),
      postsPerReplica: apps.map((a) => driver.byTarget[a.url]),
      // From each life's /metrics, scraped every second: a killed life's last second is missing.
      workPerReplica: work.perReplica,
      workPerLife: work.perLife,
      deliveriesRepostedUntilAcknowledged: acked.filter((x) => x.attempts.length > 1).length,
      deliveriesStoredByAnAttemptThatGotNoAnswer: await storedBeforeAcknowledged(m, driver),
      redeliveriesToAnotherReplica: { posted: driver.redeliveries.length, answered200: driver.redeliveries.filter((x) => x.status === 200).length },
      recovery: { drained: drained.drained, msFromStreamStopToDrained: drained.ms, leftOpen: drained.last },
      leaseRecovery: await reclaimLatency(m),
      inboxItemsClaimedAgain: inboxAgain.map((d) => ({ id: String(d._id), attempts: d.attempts, receivedMsBeforeKill: killAt - d.receivedAt.getTime() })),
      inboxProcessedMoreThanOnce,
      inboxClaimedTwiceWithoutAKill,
      outboxClaimedTwiceWithoutAKill,
      conversationLines: {
        inbound: inboundLines,
        acknowledgedMessages: acked.length,
        outboxItemsWithoutALine: outboxIds.filter((id) => !outboundLines.has(id)),
      },
      ...summarise(check),
      graphDuplicatesExplainedByKill: dupExplained.length - unexplained.length,
      graphDuplicatesUnexplained: unexplained,
      totalSeconds: Math.round((Date.now() - tStart) / 1000),
      logs: apps.map((a) => a.logFile),
    });

    expect(exits).toEqual([]);
    expect(crashes).toEqual([]);
    expect(drained.drained).toBe(true);
    expectConversationsIntact(check, { duplicatesChecked: false });
    expect(unexplained).toEqual([]);
    // Processed once: one conversation line per message, no item taken by two live replicas.
    expect(inboundLines).toBe(acked.length);
    expect(inboxProcessedMoreThanOnce).toBe(0);
    expect(inboxClaimedTwiceWithoutAKill).toEqual([]);
    expect(outboxClaimedTwiceWithoutAKill).toEqual([]);
    // The work really was shared, and the restarted replica took its part again.
    for (const w of work.perReplica) expect(w.inboxItemsDone).toBeGreaterThan(0);
    expect(ackedByRestarted).toBeGreaterThan(0);
    expect(driver.redeliveries.length).toBeGreaterThan(0);
  });
});
