import path from 'node:path';
import { freePort } from '../../src/db/embedded';
import { FakeGraph } from '../support/fakeGraph';
import { testDbUri } from '../support/testDb';
import { appEnv, AppProcess } from './support/appProcess';
import { checkConversations, expectConversationsIntact, reclaimLatency, storedBeforeAcknowledged, summarise } from './support/checks';
import { ConversationDriver } from './support/conversationDriver';
import { graphDeliveries } from './support/graphDeliveries';
import { type Inspector, openInspector, tearDown } from './support/inspector';
import { between, rng } from './support/random';
import { outDir, percentile, report } from './support/report';
import { sleep, waitDrained } from './support/wait';

/**
 * Scenario 1 — kill -9 at random moments. A continuous mixed stream of conversations is posted while
 * the service is SIGKILLed (sometimes while serving, sometimes while still starting) and restarted on
 * the same database. Then: every acknowledged message processed exactly once, consent as each
 * subscriber's last keyword says, and every reply delivered to the Graph API exactly once.
 */
const KILLS = Number(process.env.FAULTS_KILLS ?? 24);
const SUBSCRIBERS = Number(process.env.FAULTS_KILL_SUBSCRIBERS ?? 20);

jest.setTimeout(12 * 60_000);

describe('fault: kill -9 at random moments', () => {
  let fake: FakeGraph;
  let app: AppProcess;
  let ins: Inspector | undefined;

  afterAll(() => tearDown({ app, ins, fake }));

  it(`survives ${KILLS} SIGKILLs: every acknowledged message processed once, every reply sent once`, async () => {
    const out = outDir('1-kill9');
    fake = await new FakeGraph().start();
    const uri = testDbUri('faultskill9');
    const port = await freePort();
    app = new AppProcess(appEnv({ mongodbUri: uri, port, graphUrl: fake.url }), path.join(out, 'app.log'));
    const startups: number[] = [await app.start()];
    ins = await openInspector(uri);

    const driver = new ConversationDriver({
      baseUrl: app.url,
      numberPrefix: '1555710',
      subscribers: SUBSCRIBERS,
      seed: 9001,
      // About 2 messages a second in all: what the service processes on the embedded FerretDB
      // (docs/benchmarks.md: every claim is a collection scan there), so the backlog stays bounded.
      gapMs: [5000, 12000],
      maxPerSubscriber: 400,
      redeliveryRate: 0.5,
    });
    const t0 = Date.now();
    driver.start();

    const r = rng(4242);
    const kills: { at: number; pid: number; phase: 'running' | 'mid-request' | 'startup'; upMs: number }[] = [];
    const downtimes: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      const duringStartup = i > 0 && r() < 0.2;
      if (duringStartup) {
        // Kill it again before (or just as) it becomes ready: connecting, creating indexes, first polls.
        const life = app.spawn();
        await sleep(between(r, 50, 1200));
        kills.push({ at: Date.now(), pid: life.pid, phase: 'startup', upMs: Date.now() - life.startedAt });
        await app.kill9();
      } else {
        if (i > 0) {
          const down = Date.now();
          startups.push(await app.start());
          downtimes.push(Date.now() - down);
        }
        const upSince = Date.now();
        let phase: 'running' | 'mid-request' = 'running';
        if (r() < 0.5) {
          // Half the kills aim at a delivery in flight: a few ms after a new delivery's post starts,
          // i.e. while it is being read, verified, stored or answered.
          await sleep(between(r, 800, 3000));
          await Promise.race([driver.nextAttempt(), sleep(5000)]);
          await sleep(between(r, 0, 25));
          phase = 'mid-request';
        } else {
          await sleep(between(r, 800, 5000));
        }
        kills.push({ at: Date.now(), pid: app.pid, phase, upMs: Date.now() - upSince });
        await app.kill9();
      }
    }
    const chaosEnded = Date.now();
    const finalDown = Date.now();
    startups.push(await app.start());
    downtimes.push(Date.now() - finalDown);
    const finalStart = Date.now();
    // Let the stream run on the healthy service a little, then stop it (in-flight messages finish).
    await sleep(3000);
    await driver.stop();
    const streamEnded = Date.now();

    const backlogAtStop = { inbox: 0, outbox: 0 };
    const drained = await waitDrained(ins.models, 180_000, (b) => {
      if (backlogAtStop.inbox === 0 && backlogAtStop.outbox === 0) Object.assign(backlogAtStop, { inbox: b.inboxOpen, outbox: b.outboxOpen });
    });
    // The fake Graph may still be answering the last sends: a short settle.
    await sleep(1000);
    const check = await checkConversations(ins, driver, fake);

    // Duplicates the inherent window explains: the service was killed right after Graph accepted a
    // send and before it recorded it; the item was sent again once its lease expired.
    const dupExplained = check.graphDuplicates.map((d) => {
      const kill = kills.find((k) => k.at >= d.firstAt && k.at - d.firstAt < 2000);
      return { ...d, killedMsAfterGraphAccepted: kill ? kill.at - d.firstAt : null, killPhase: kill?.phase ?? null };
    });
    const unexplained = dupExplained.filter((d) => d.killedMsAfterGraphAccepted === null);

    const acked = driver.messages.filter((m) => m.ackedAt);
    const reposted = acked.filter((m) => m.attempts.length > 1).length;
    const deliveries = graphDeliveries(fake);
    report('1-kill9', {
      kills: kills.length,
      killsWhileRunning: kills.filter((k) => k.phase === 'running').length,
      killsAimedAtADeliveryInFlight: kills.filter((k) => k.phase === 'mid-request').length,
      killsDuringStartup: kills.filter((k) => k.phase === 'startup').length,
      unexpectedExits: app.unexpectedExits,
      crashLines: app.crashes.slice(0, 10),
      stderrLines: app.stderr.slice(0, 10),
      startupMs: { p50: percentile(startups, 50), max: Math.max(...startups), n: startups.length },
      downtimeBetweenKillAndReadyMs: { p50: percentile(downtimes, 50), max: Math.max(...downtimes) },
      chaosSeconds: Math.round((chaosEnded - t0) / 1000),
      streamSeconds: Math.round((streamEnded - t0) / 1000),
      subscribers: SUBSCRIBERS,
      acknowledgedPerSecond: Number((acked.length / ((streamEnded - t0) / 1000)).toFixed(1)),
      deliveriesRepostedUntilAcknowledged: reposted,
      deliveriesStoredByAnAttemptThatGotNoAnswer: await storedBeforeAcknowledged(ins.models, driver),
      redeliveriesOfAcknowledged: { posted: driver.redeliveries.length, answered200: driver.redeliveries.filter((x) => x.status === 200).length },
      backlogWhenStreamStopped: backlogAtStop,
      recoveryAfterFinalRestart: {
        drained: drained.drained,
        msFromStreamStopToDrained: drained.ms,
        msFromFinalRestartToDrained: drained.ms + (streamEnded - finalStart),
        leftOpen: drained.last,
      },
      leaseRecovery: await reclaimLatency(ins.models),
      lastGraphDeliveryMsAfterFinalRestart: deliveries.length ? Math.max(...deliveries.map((d) => d.at)) - finalStart : null,
      ...summarise(check),
      graphDuplicatesExplainedByKill: dupExplained.length - unexplained.length,
      graphDuplicatesDetail: dupExplained.slice(0, 10),
      graphDuplicatesUnexplained: unexplained,
      logs: app.logFile,
    });

    expect(kills.length).toBeGreaterThanOrEqual(20);
    expect(app.unexpectedExits).toEqual([]);
    expect(app.crashes).toEqual([]);
    expect(drained.drained).toBe(true);
    expectConversationsIntact(check, { duplicatesChecked: false });
    expect(unexplained).toEqual([]);
  });
});
