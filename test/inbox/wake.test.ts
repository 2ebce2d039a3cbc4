import request from 'supertest';
import type { Clock } from '../../src/lib/clock';
import { createGraphClient } from '../../src/outbox/graphClient';
import { createWorkers, type WorkerSet } from '../../src/workers';
import { createChatHarness, type ChatHarness } from '../support/chat';
import type { TestClock } from '../support/harness';
import { waitFor } from '../support/proc';
import { signedText } from '../support/whatsapp';

/**
 * Wake, don't poll: a stored delivery wakes the inbox worker and a queued reply wakes the sender at
 * once, and a retry wakes the sender when it falls due. The workers here poll only every 10
 * minutes, so anything that happens within the test happened because something woke them.
 */
const realClock: Clock = { now: () => new Date() };
const HOUR_LONG_POLL = 600_000;

let h: ChatHarness;
let workers: WorkerSet;
beforeEach(async () => {
  // The fake Graph API answers from this test's own process, which shares two cores with a second
  // test file and the database: a 2 s client timeout can expire on a starved fake, and each expiry
  // doubles the next backoff. 10 s keeps what is tested (the wake) apart from the machine's load.
  h = await createChatHarness('wake', { clock: realClock as TestClock, env: { GRAPH_API_TIMEOUT_MS: '10000' } });
  workers = createWorkers(h.deps, { graph: createGraphClient(h.deps.config), inbox: { idleMs: HOUR_LONG_POLL }, outbox: { idleMs: HOUR_LONG_POLL } });
  workers.start();
});
afterEach(async () => {
  await workers.stop();
  await h.close();
});

async function deliver(waId: string, text: string): Promise<void> {
  const { raw, signature } = signedText(waId, text);
  await request(h.app).post('/webhook').set('content-type', 'application/json').set('x-hub-signature-256', signature).send(raw).expect(200);
}

const consentOf = async (waId: string) => (await h.deps.stores.subscribers.find({ waId }))?.consent;

describe('the workers are woken, not polled', () => {
  it('a STOP is carried out and confirmed with the workers asleep for 10 minutes', async () => {
    const waId = '15550008801';
    await deliver(waId, 'STOP');
    await waitFor(() => h.fake.deliveredTo(waId).length === 1, 20_000);
    expect(await consentOf(waId)).toBe('opted_out');
    expect(await h.deps.models.Inbox.countDocuments({ state: 'done' })).toBe(1);
  });

  it('a send Meta refuses for now is retried when it falls due, not at the next poll', async () => {
    const waId = '15550008802';
    h.fake.failNext({ kind: 'status', status: 503 });
    await deliver(waId, 'START');
    await waitFor(() => h.fake.deliveredTo(waId).length === 1, 20_000).catch(async (err: Error) => {
      // What the queues hold, to tell a missed wake from a slow or failing send.
      const inbox = await h.deps.models.Inbox.find({}, { state: 1, attempts: 1, lastError: 1 }).lean();
      const outbox = await h.deps.models.Outbox.find({}, { state: 1, attempts: 1, error: 1, nextAttemptAt: 1 }).lean();
      throw new Error(`${err.message}; inbox ${JSON.stringify(inbox)}; outbox ${JSON.stringify(outbox)}`);
    });
    expect(await consentOf(waId)).toBe('opted_in');
    const item = await h.deps.models.Outbox.findOne({}).lean();
    expect(item).toMatchObject({ state: 'sent', open: false, attempts: 2 });
    // Written into this process's sender's hand (its first claim, no claim document), then claimed
    // for the retry like any open item: generation 1.
    const claims = (await h.db.conn.db!.collection('claims').find({}).toArray()).map((c) => String(c._id));
    expect(claims.filter((c) => c.startsWith(`outbox:${item!._id}:`))).toEqual([`outbox:${item!._id}:1`]);
  });

  it('a delivery this process stored is worked on as stored, without a claim, and its record says so when done', async () => {
    const waId = '15550008803';
    // Mongoose's own command log on this connection: which queue items were leased by a read-and-write.
    const leased: string[] = [];
    h.db.conn.set('debug', (collection: string, method: string) => {
      if (method === 'findOneAndUpdate') leased.push(collection);
    });
    await deliver(waId, 'STOP');
    await waitFor(() => h.fake.deliveredTo(waId).length === 1, 20_000);
    const item = await h.deps.models.Inbox.findOne({ field: 'messages' }).lean();
    await waitFor(async () => (await h.deps.models.Inbox.findById(item!._id).lean())?.state === 'done', 10_000);
    expect(await h.deps.models.Inbox.findById(item!._id).lean()).toMatchObject({ state: 'done', open: false, attempts: 1 });
    // Stored and queued into this process's workers' hands: no claim document for either, and
    // neither the inbox item nor the reply was leased by a read-and-write.
    const claims = (await h.db.conn.db!.collection('claims').find({}).toArray()).map((c) => String(c._id));
    expect(claims).toEqual([]);
    expect(await h.deps.models.Outbox.findOne({}).lean()).toMatchObject({ state: 'sent', attempts: 1 });
    h.db.conn.set('debug', false);
    expect(leased.filter((c) => c === 'inbox' || c === 'outbox')).toEqual([]);
    // Nothing left that a worker could claim again.
    expect(await h.deps.models.Inbox.countDocuments({ open: true })).toBe(0);
    expect(await h.deps.models.Outbox.countDocuments({ open: true })).toBe(0);
  });

  it("a reply handed over with its turn's profile is sent without reading the profile again", async () => {
    const waId = '15550008804';
    await deliver(waId, 'START');
    await waitFor(() => h.fake.deliveredTo(waId).length === 1, 20_000);
    // The second message: the turn reads the person once (by token); the sender reads nothing.
    const reads: string[] = [];
    const writes: string[] = [];
    h.db.conn.set('debug', (collection: string, method: string) => {
      if (collection !== 'subscribers') return;
      if (/^find/.test(method) && method !== 'findOneAndUpdate') reads.push(method);
      if (/update/i.test(method)) writes.push(method);
    });
    await deliver(waId, 'STOP');
    await waitFor(() => h.fake.deliveredTo(waId).length === 2, 20_000);
    await waitFor(async () => (await h.deps.models.Outbox.countDocuments({ open: true })) === 0, 10_000);
    h.db.conn.set('debug', false);
    expect(reads).toEqual(['findOne']);
    expect(writes).toEqual(['updateOne']); // the consent change, carrying the refresh and the reply's place
    expect(await consentOf(waId)).toBe('opted_out');
  });
});
