import request from 'supertest';
import { enqueueRendered } from '../../src/outbox/enqueue';
import { createGraphClient, type GraphClient } from '../../src/outbox/graphClient';
import { graphKey } from '../../src/privacy/ids';
import type { Subscriber } from '../../src/store/subscriberStore';
import { createOutboxWorker } from '../../src/outbox/worker';
import { bodyText, createChatHarness, type ChatHarness } from '../support/chat';
import type { Fault } from '../support/fakeGraph';
import { envelope, messagesChange, signed, textMessage } from '../support/whatsapp';
import { TEST_PHONE_NUMBER_ID } from '../support/harness';

/**
 * The outbox against a fake Graph API that fails on purpose. Every outbound message carries its
 * idempotency key (biz_opaque_callback_data), so the fake can tell a duplicate from a retry.
 */
let h: ChatHarness;
beforeEach(async () => {
  h = await createChatHarness('delivery', { env: { GRAPH_API_TIMEOUT_MS: '300' } });
});
afterEach(() => h.close());

const keysDelivered = () => h.fake.delivered().map((r) => (r.body as any).biz_opaque_callback_data as string);

/** Runs the outbox while moving the clock, as time would pass in production. */
async function runFor(ms: number, step = 2000) {
  for (let t = 0; t < ms; t += step) {
    await h.workers.outbox.runOnce();
    h.clock.advance(step);
  }
  await h.workers.outbox.runOnce();
}

describe.each<[string, Fault[]]>([
  ['a 429 with Retry-After', [{ kind: 'status', status: 429, retryAfter: 3, graphCode: 130429, title: 'Rate limit hit' }]],
  [
    'a burst of 500s',
    [
      { kind: 'status', status: 500 },
      { kind: 'status', status: 502 },
      { kind: 'status', status: 503 },
      { kind: 'status', status: 500 },
    ],
  ],
  ['a timeout', [{ kind: 'hang' }]],
  ['a connection reset', [{ kind: 'reset' }, { kind: 'reset' }]],
  ['throttling error 131056 (pair rate)', [{ kind: 'status', status: 400, graphCode: 131056, title: 'pair rate limit' }]],
  ['spam-rate error 80007', [{ kind: 'status', status: 400, graphCode: 80007, title: 'rate limit' }]],
])('after %s', (_label, faults) => {
  it('the message is delivered exactly once, later', async () => {
    h.fake.failNext(...faults);
    await h.say('15550200001', 'STOP');
    expect(keysDelivered()).toEqual([]);
    const item = await h.deps.models.Outbox.findOne({}).lean();
    expect(item).toMatchObject({ state: 'pending' });
    expect(item!.error).not.toBeNull();
    await runFor(120_000);
    expect(keysDelivered()).toEqual([item!._id]);
    // Meta's message id encodes the number: only its keyed hash is kept, to match status webhooks.
    const metaId = h.fake.delivered().at(-1)!.messageId!;
    const sent = await h.deps.models.Outbox.findById(item!._id).lean();
    expect(sent).toMatchObject({ state: 'sent', graphKey: graphKey(h.deps.pii, metaId) });
    expect(JSON.stringify(sent)).not.toContain(metaId);
    const metrics = await request(h.app).get('/metrics');
    expect(metrics.text).toMatch(/graph_send_retries_total \d+/);
  });
});

it('honours Retry-After: nothing is sent again before it has passed', async () => {
  h.fake.failNext({ kind: 'status', status: 429, retryAfter: 20, graphCode: 130429 });
  await h.say('15550200002', 'STOP');
  const attempts = () => h.fake.requests.filter((r) => r.path.endsWith('/messages')).length;
  expect(attempts()).toBe(1);
  await runFor(18_000, 1000);
  expect(attempts()).toBe(1);
  await runFor(4_000, 1000);
  expect(attempts()).toBe(2);
  expect(keysDelivered()).toHaveLength(1);
});

it('a 60-second outage: everything is delivered afterwards, once, in order per recipient', async () => {
  h.fake.setDown(true);
  const people = ['15550200011', '15550200012', '15550200013'];
  for (const waId of people) {
    await h.say(waId, 'HELP');
    await h.say(waId, 'STOP');
    await h.say(waId, 'START');
  }
  await runFor(60_000, 5000);
  expect(keysDelivered()).toEqual([]);
  h.fake.setDown(false);
  await runFor(40_000, 2000);
  const delivered = keysDelivered();
  expect(new Set(delivered).size).toBe(delivered.length);
  expect(delivered).toHaveLength(9);
  for (const waId of people) {
    const kinds = h.fake.deliveredTo(waId).map((b) => (b.type === 'interactive' ? 'help' : bodyText(b).startsWith('Done') ? 'stop' : 'start'));
    expect(kinds).toEqual(['help', 'stop', 'start']);
  }
});

describe.each([
  // Meta's title (which can quote the recipient's number) → the words we record for staff.
  [131026, 'Message undeliverable to +15550200003', 'message undeliverable'],
  [131047, 'Re-engagement message', 'outside the 24-hour window'],
  [131049, 'Meta chose not to deliver', 'Graph error 131049'],
  [100, 'Invalid parameter: to 15550200003', 'invalid parameter'],
])('a permanent error %i', (code, metaTitle, title) => {
  it('is not retried; the reason is recorded for staff, in our own words', async () => {
    h.fake.failNext({ kind: 'status', status: 400, graphCode: code, title: metaTitle });
    await h.say('15550200003', 'HELP');
    await runFor(120_000, 10_000);
    expect(h.fake.requests.filter((r) => r.path.endsWith('/messages'))).toHaveLength(1);
    const item = await h.deps.models.Outbox.findOne({}).lean();
    expect(item).toMatchObject({ state: 'failed', error: { code, title } });
    expect(JSON.stringify(item)).not.toContain(metaTitle);
    expect(h.logs.text()).not.toContain(metaTitle);
    expect(await h.deps.models.Message.findById(item!._id).lean()).toMatchObject({ status: 'failed' });
  });
});

it('131050 on a send records a marketing opt-out and is not retried', async () => {
  await h.say('15550200004', 'START');
  h.fake.failNext({ kind: 'status', status: 400, graphCode: 131050, title: 'stopped marketing' });
  await h.say('15550200004', 'HELP');
  const s = await h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex('wa:15550200004') }).lean();
  expect(s!.consent).toBe('opted_out');
  expect(await h.deps.models.Consent.findOne({ subscriberId: s!._id, action: 'withdraw' }).lean()).toMatchObject({ source: 'meta_131050' });
});

it('the app killed with a message in flight: delivered after restart, once', async () => {
  await h.workers.inbox.runOnce(); // nothing pending
  const never: GraphClient = {
    sendMessage: () => new Promise<never>(() => undefined),
    uploadMedia: () => new Promise<never>(() => undefined),
    deleteMedia: () => new Promise<never>(() => undefined),
  };
  const dying = createOutboxWorker(h.deps, never, { leaseMs: 30_000 });
  // A subscriber writes; the inbox is processed, the reply queued; the dying sender claims it.
  const { raw, signature } = signed(
    envelope(messagesChange({ waId: '15550200005' }, [textMessage('STOP', { timestamp: Math.floor(h.clock.now().getTime() / 1000) })])),
  );
  await request(h.app).post('/webhook').set('content-type', 'application/json').set('x-hub-signature-256', signature).send(raw).expect(200);
  await h.workers.inbox.runOnce();
  void dying.runOnce();
  await new Promise((r) => setTimeout(r, 200));
  expect(await h.deps.models.Outbox.findOne({}).lean()).toMatchObject({ state: 'sending' });

  // "Restart": a new sender with a real client. Nothing happens until the lease expires.
  const fresh = createOutboxWorker(h.deps, createGraphClient(h.deps.config));
  expect(await fresh.runOnce()).toBe(0);
  h.clock.advance(31_000);
  expect(await fresh.runOnce()).toBe(1);
  expect(await fresh.runOnce()).toBe(0);
  expect(keysDelivered()).toHaveLength(1);
});

it('a STOP arriving while a marketing message waits stops that message', async () => {
  await h.say('15550200006', 'START');
  const s = await h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex('wa:15550200006') }).lean();
  h.fake.setDown(true);
  await enqueueRendered(h.deps, {
    id: 'mkt-1',
    subscriberId: s!._id,
    to: h.deps.stores.subscribers.recipientOf(s as Subscriber),
    from: TEST_PHONE_NUMBER_ID,
    category: 'marketing',
    kind: 'text',
    body: { type: 'text', text: { body: 'SALE!' } },
    display: 'SALE!',
    order: 1,
    record: true,
    purgeAfterSend: false,
    by: 'api',
  });
  await h.workers.outbox.runOnce(); // first attempt fails: Graph down
  h.fake.setDown(false);
  await h.say('15550200006', 'STOP');
  await runFor(60_000);
  expect(h.fake.deliveredTo('15550200006').map(bodyText)).not.toContain('SALE!');
  expect(await h.deps.models.Outbox.findById('mkt-1').lean()).toMatchObject({ state: 'failed', error: { title: expect.stringContaining('consent gate') } });
});

it('statuses move an outbound message forward (sent → delivered → read), never backward', async () => {
  await h.say('15550200007', 'STOP');
  const item = await h.deps.models.Outbox.findOne({}).lean();
  // Found by Meta's message id alone (no callback id in these statuses): through its keyed hash.
  const metaId = h.fake.delivered().at(-1)!.messageId!;
  const status = (st: string, offset: number) => ({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '1',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { phone_number_id: TEST_PHONE_NUMBER_ID },
              statuses: [{ id: metaId, status: st, timestamp: String(Math.floor(h.clock.now().getTime() / 1000) + offset), recipient_id: '15550200007' }],
            },
          },
        ],
      },
    ],
  });
  await h.post(status('read', 20));
  await h.post(status('delivered', 10));
  expect(await h.deps.models.Outbox.findById(item!._id).lean()).toMatchObject({ state: 'read' });
  expect(await h.deps.models.Message.findById(item!._id).lean()).toMatchObject({ status: 'read' });
});

it('a free-form message outside the 24-hour window is not attempted', async () => {
  await h.say('15550200008', 'hello');
  h.fake.setDown(true);
  await h.say('15550200008', 'HELP');
  h.clock.advance(25 * 3600_000);
  h.fake.setDown(false);
  const before = h.fake.requests.length;
  await runFor(10_000);
  expect(h.fake.requests.length).toBe(before);
  const last = await h.deps.models.Outbox.findOne({}).sort({ order: -1 }).lean();
  expect(last).toMatchObject({ state: 'failed', error: { code: 131047 } });
});
