import { enqueueRendered } from '../../src/outbox/enqueue';
import { createGraphClient, type GraphClient } from '../../src/outbox/graphClient';
import { createOutboxWorker } from '../../src/outbox/worker';
import { runErasureJob } from '../../src/rights/erasure';
import type { OutboxDoc } from '../../src/store/outboxStore';
import type { Subscriber } from '../../src/store/subscriberStore';
import { bodyText, createChatHarness, type ChatHarness } from '../support/chat';
import { TEST_PHONE_NUMBER_ID } from '../support/harness';
import { waitFor } from '../support/proc';

/**
 * Messages queued straight into this process's sender's hand (lib/handOver.ts): written already
 * leased to it, with their conversation line left for the sender to write once, with how the send
 * ended. What an outsider may do to that: kill the process before it sends (another replica must
 * send it once, line and all, after the lease), stop it gracefully (the message must go back at
 * once), or make Meta refuse for now (staff must see the message waiting).
 */
let h: ChatHarness;
let cleanup: (() => Promise<void> | void)[] = [];
beforeEach(async () => {
  h = await createChatHarness('outinhand');
  cleanup = [];
});
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  await h.close();
});

async function person(waId: string): Promise<Subscriber> {
  await h.say(waId, 'HELP');
  h.fake.reset();
  return (await h.deps.stores.subscribers.find({ waId })) as Subscriber;
}

const queue = (s: Subscriber, id: string, text: string, by = 'bot') =>
  enqueueRendered(h.deps, {
    id,
    subscriberId: s._id,
    to: h.deps.stores.subscribers.recipientOf(s),
    from: TEST_PHONE_NUMBER_ID,
    category: 'service',
    kind: 'text',
    body: { type: 'text', text: { body: text } },
    display: text,
    order: Date.now() * 100,
    record: true,
    purgeAfterSend: false,
    by,
  });

/** This process's sender, running and taking what is queued into its hand; its sends wait until `release`. */
function gatedSender() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const real = createGraphClient(h.deps.config);
  let sending = 0;
  const slow: GraphClient = {
    ...real,
    sendMessage: async (...a) => {
      sending++;
      await gate;
      return real.sendMessage(...a);
    },
  };
  const sender = createOutboxWorker(h.deps, slow, { idleMs: 600_000 });
  const onOutbox = (docs?: OutboxDoc[]) => (docs?.length ? sender.offer(docs) : sender.kick());
  h.deps.bus.on('outbox', onOutbox);
  sender.start();
  const undo = h.deps.handOver.register('outbox', sender);
  cleanup.push(async () => {
    open();
    undo();
    h.deps.bus.off('outbox', onOutbox);
    await sender.stop();
  });
  return { sender, undo, release: () => open(), sending: () => sending };
}

const line = (id: string) => h.deps.models.Message.findById(id).lean();
const item = (id: string) => h.deps.models.Outbox.findById(id).lean();

describe('a message queued into the sender’s hand', () => {
  it('is sent once by another replica after the lease of a process that died, and its line is written then', async () => {
    const s = await person('15550032001');
    const dead = createOutboxWorker(h.deps, createGraphClient(h.deps.config));
    cleanup.push(h.deps.handOver.register('outbox', { leaseMs: dead.leaseMs, reserve: () => true, forgo: () => undefined }));
    expect(await queue(s, 'orphan-1', 'Your order has shipped')).toBe(true);
    expect(await item('orphan-1')).toMatchObject({ state: 'sending', attempts: 1, lineEnc: expect.any(String) });
    // The line waits for the sender, sealed with the item.
    expect(await line('orphan-1')).toBeNull();

    expect(await h.workers.outbox.runOnce()).toBe(0); // leased to the dead process
    h.clock.advance(dead.leaseMs + 1000);
    expect(await h.workers.outbox.runOnce()).toBe(1);
    expect(h.fake.deliveredTo('15550032001').map(bodyText)).toEqual(['Your order has shipped']);
    expect(await item('orphan-1')).toMatchObject({ state: 'sent', attempts: 2, lineEnc: null });
    const l = await line('orphan-1');
    expect(l).toMatchObject({ direction: 'out', status: 'sent', by: 'bot', kind: 'text' });
    // Dated when it was queued, not when it went: the conversation keeps its order.
    expect(l!.at.getTime()).toBe(new Date((await item('orphan-1'))!.createdAt).getTime());
    const lines = await h.deps.stores.conversation.linesOf(s._id);
    expect(lines.at(-1)).toMatchObject({ _id: 'orphan-1', text: 'Your order has shipped' });
    expect(await h.workers.outbox.runOnce()).toBe(0);
    expect(h.fake.deliveredTo('15550032001')).toHaveLength(1);
  });

  it('goes back to the queue when its sender stops before sending it, line and all', async () => {
    const s = await person('15550032002');
    // The first send hangs until the test lets it go: the second message waits in the sender's hand.
    const { sender, undo, release, sending } = gatedSender();

    await queue(s, 'm-1', 'first');
    await queue(s, 'm-2', 'second');
    await waitFor(() => sending() === 1, 5000);
    expect(await item('m-2')).toMatchObject({ state: 'sending', attempts: 1 });

    undo();
    const stopping = sender.stop();
    release();
    await stopping;
    expect(await item('m-1')).toMatchObject({ state: 'sent', attempts: 1, lineEnc: null });
    expect(await line('m-1')).toMatchObject({ status: 'sent' });
    // Given back: due at once, still carrying the line it is to write.
    expect(await item('m-2')).toMatchObject({ state: 'pending', open: true, attempts: 1, leaseUntil: null, lineEnc: expect.any(String) });
    expect(await h.workers.outbox.runOnce()).toBe(1);
    expect(h.fake.deliveredTo('15550032002').map(bodyText)).toEqual(['first', 'second']);
    expect(await item('m-2')).toMatchObject({ state: 'sent', attempts: 2, lineEnc: null });
    expect(await line('m-2')).toMatchObject({ status: 'sent', by: 'bot' });
  });

  it('shows staff the message as queued while Meta refuses it for now, and as sent once it goes', async () => {
    const s = await person('15550032003');
    cleanup.push(h.deps.handOver.register('outbox', { leaseMs: h.workers.outbox.leaseMs, reserve: () => true, forgo: () => undefined }));
    h.fake.failNext({ kind: 'status', status: 503 });
    await queue(s, 'r-1', 'We are looking into it');
    expect(await line('r-1')).toBeNull();
    // This test's sender stands in for the one it was handed to (same process): its lease is as written.
    h.workers.outbox.offer([(await item('r-1')) as OutboxDoc]);
    expect(await h.workers.outbox.runOnce()).toBe(1);
    expect(await item('r-1')).toMatchObject({ state: 'pending', lineEnc: null });
    expect(await line('r-1')).toMatchObject({ status: 'queued', by: 'bot' });
    h.clock.advance(60_000);
    expect(await h.workers.outbox.runOnce()).toBe(1);
    expect(await line('r-1')).toMatchObject({ status: 'sent' });
    expect(h.fake.deliveredTo('15550032003').map(bodyText)).toEqual(['We are looking into it']);
    expect(await h.deps.models.Message.countDocuments({ _id: 'r-1' })).toBe(1);
  });

  it('leaves no line behind when the person is erased while the send is in flight', async () => {
    const s = await person('15550032004');
    const { release, sending } = gatedSender();

    await queue(s, 'e-1', 'Here is what we hold about you');
    await waitFor(() => sending() === 1, 5000);
    // The person's erasure runs to the end while Graph has the message.
    await h.deps.rights.erasureJobs.start({
      id: 'erase-e-1',
      subscriberId: s._id,
      subscriberToken: s.key,
      to: h.deps.stores.subscribers.recipientOf(s),
      phoneNumberId: TEST_PHONE_NUMBER_ID,
      locale: 'en',
      now: h.clock.now(),
    });
    expect(await runErasureJob(h.deps.rights, 'erase-e-1')).toBe('done');
    release();
    await waitFor(() => h.fake.deliveredTo('15550032004').length >= 1, 5000);
    await new Promise((r) => setTimeout(r, 300)); // the sender records how the send ended
    expect(await item('e-1')).toBeNull();
    expect(await h.deps.models.Message.countDocuments({ subscriberId: s._id })).toBe(0);
  });

  it('shows a message staff queued as queued at once, even when it goes into the sender’s hand', async () => {
    const s = await person('15550032005');
    cleanup.push(h.deps.handOver.register('outbox', { leaseMs: h.workers.outbox.leaseMs, reserve: () => true, forgo: () => undefined }));
    await queue(s, 's-1', 'A person from our team will call you', 'staff:7');
    expect(await item('s-1')).toMatchObject({ state: 'sending', attempts: 1, lineEnc: null });
    expect(await line('s-1')).toMatchObject({ status: 'queued', by: 'staff:7' });
    h.workers.outbox.offer([(await item('s-1')) as OutboxDoc]);
    expect(await h.workers.outbox.runOnce()).toBe(1);
    expect(await line('s-1')).toMatchObject({ status: 'sent', by: 'staff:7' });
    expect(await h.deps.models.Message.countDocuments({ _id: 's-1' })).toBe(1);
  });
});
