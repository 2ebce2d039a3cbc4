import request from 'supertest';
import { createInboxWorker, type InboxWorker } from '../../src/inbox/worker';
import { HAND_OVER_DEPTH } from '../../src/lib/pollingLoop';
import { TAKE_WITH_LEASE_AHEAD } from '../../src/store/claimStore';
import { messageKey } from '../../src/privacy/ids';
import type { ClaimedItem, InboxDoc } from '../../src/store/inboxStore';
import { createHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/proc';
import { envelope, messagesChange, signed, textMessage, wamid } from '../support/whatsapp';

/**
 * Items written straight into a worker's hand (lib/handOver.ts): the process that stores a
 * delivery, while its inbox worker runs and keeps up, stores the item already leased to that
 * worker. Seen from outside, that is a lease like any other: another replica must leave the item
 * alone while it stands, take it (as the next claim) once it has run out, and a person's order must
 * hold across replicas.
 */
let h: Harness;
let cleanup: (() => Promise<void> | void)[] = [];
/** Every gate opened so far: a failed test must not leave a worker waiting forever on stop. */
let gates: (() => void)[] = [];
beforeEach(async () => {
  h = await createHarness('inhand');
  cleanup = [];
  gates = [];
  textOf.clear();
});
afterEach(async () => {
  for (const open of gates) open();
  for (const c of cleanup.reverse()) await c();
  await h.close();
});

/** Inbox id → text, for every message delivered in the test. */
const textOf = new Map<string, string>();
const idOf = (text: string) => [...textOf].find(([, t]) => t === text)![0];

async function deliver(waId: string, texts: string[]): Promise<void> {
  const base = Math.floor(h.clock.now().getTime() / 1000) - 10;
  const msgs = texts.map((t, i) => textMessage(t, { id: wamid(waId), timestamp: base + i }));
  for (const m of msgs) textOf.set(messageKey(h.deps.pii, m.id as string), (m.text as { body: string }).body);
  const { raw, signature } = signed(envelope(messagesChange({ waId }, msgs)));
  await request(h.app).post('/webhook').set('content-type', 'application/json').set('x-hub-signature-256', signature).send(raw).expect(200);
}

/** A handler whose items finish when the test says so. */
function gated() {
  const seen: string[] = [];
  const mine = new Map<string, () => void>();
  const handler = (item: ClaimedItem) =>
    new Promise<void>((resolve) => {
      seen.push(textOf.get(item.id)!);
      mine.set(textOf.get(item.id)!, resolve);
      gates.push(resolve);
    });
  const finish = (text: string) => mine.get(text)!();
  return { seen, handler, finish };
}

/** This process's worker, running and registered as the taker of what the webhook stores (as workers.ts does). */
function runningHere(handler: (item: ClaimedItem) => Promise<void>, opts: { concurrency?: number; idleMs?: number } = {}): InboxWorker {
  const w = createInboxWorker(h.deps, handler, { idleMs: opts.idleMs ?? 600_000, concurrency: opts.concurrency ?? 16 });
  const onInbox = (docs?: InboxDoc[]) => (docs?.length ? w.offer(docs) : w.kick());
  h.deps.bus.on('inbox', onInbox);
  w.start();
  const undo = h.deps.handOver.register('inbox', w);
  cleanup.push(async () => {
    undo();
    h.deps.bus.off('inbox', onInbox);
    await w.stop();
  });
  return w;
}

/** A message of this person stored open and taken by another replica, which holds it until `finish`. */
async function heldByAnotherReplica(waId: string, text: string) {
  const held = gated();
  const otherReplica = createInboxWorker(h.deps, held.handler);
  await deliver(waId, [text]);
  void otherReplica.runOnce();
  await waitFor(() => held.seen.includes(text), 10_000);
  return held;
}

const item = (text: string) => h.deps.models.Inbox.findById(idOf(text)).lean();
const claimIds = async () => (await h.db.conn.db!.collection('claims').find({}).toArray()).map((c) => String(c._id)).sort();

describe('an item written into a worker’s hand', () => {
  it('is worked on once by the worker that stored it, with no claim, while another replica leaves it alone', async () => {
    const here = gated();
    runningHere(here.handler);
    const elsewhere: string[] = [];
    const otherReplica = createInboxWorker(h.deps, async (i) => void elsewhere.push(textOf.get(i.id)!));

    await deliver('15550031001', ['hello']);
    await waitFor(() => here.seen.includes('hello'), 10_000);
    expect(await item('hello')).toMatchObject({ state: 'processing', attempts: 1, open: true });
    // Leased from the moment it was stored: the other replica's pass finds nothing it may take.
    expect(await otherReplica.runOnce()).toBe(0);
    h.clock.advance(20_000); // still within the lease
    expect(await otherReplica.runOnce()).toBe(0);

    here.finish('hello');
    await waitFor(async () => (await item('hello'))?.state === 'done', 10_000);
    expect(await item('hello')).toMatchObject({ state: 'done', open: false, attempts: 1 });
    expect(await otherReplica.runOnce()).toBe(0);
    expect(elsewhere).toEqual([]);
    expect(here.seen).toEqual(['hello']);
    expect(await claimIds()).toEqual([]);
  });

  it('is taken by another replica, as the next claim, once the lease of a process that died has run out', async () => {
    // A process whose worker took the delivery into its hand and died before working on it: its
    // handover is registered, nothing of it will ever run.
    const dead = createInboxWorker(h.deps, () => new Promise<void>(() => undefined));
    const undo = h.deps.handOver.register('inbox', { leaseMs: dead.leaseMs, reserve: () => true, forgo: () => undefined });
    cleanup.push(undo);
    await deliver('15550031002', ['orphan']);
    expect(await item('orphan')).toMatchObject({ state: 'processing', attempts: 1 });

    const handled: string[] = [];
    const survivor = createInboxWorker(h.deps, async (i) => void handled.push(textOf.get(i.id)!));
    expect(await survivor.runOnce()).toBe(0);
    h.clock.advance(dead.leaseMs + 1000);
    expect(await survivor.runOnce()).toBe(1);
    expect(await survivor.runOnce()).toBe(0);
    expect(handled).toEqual(['orphan']);
    expect(await item('orphan')).toMatchObject({ state: 'done', attempts: 2 });
    // Generation 0 was the lease it was born with; the survivor won generation 1.
    expect(await claimIds()).toEqual([`inbox:${idOf('orphan')}:1`]);
  });

  it('goes back to the queue when its worker stops before starting it, and another replica takes it at once, in order', async () => {
    const here = gated();
    const w = runningHere(here.handler);
    await deliver('15550031003', ['first', 'second']);
    await waitFor(() => here.seen.includes('first'), 10_000);
    expect(await item('second')).toMatchObject({ state: 'processing', attempts: 1 }); // in hand, waiting behind 'first'

    const stopping = w.stop();
    here.finish('first');
    await stopping;
    expect(await item('first')).toMatchObject({ state: 'done', attempts: 1 });
    expect(await item('second')).toMatchObject({ state: 'pending', open: true, attempts: 1, leaseUntil: null });

    const handled: string[] = [];
    const otherReplica = createInboxWorker(h.deps, async (i) => void handled.push(textOf.get(i.id)!));
    expect(await otherReplica.runOnce()).toBe(1); // no lease to wait for
    expect(handled).toEqual(['second']);
    expect(here.seen).toEqual(['first']);
    expect(await item('second')).toMatchObject({ state: 'done', attempts: 2 });
  });

  it("waits behind the same person's earlier message that another replica holds, then goes without a claim", async () => {
    const held = await heldByAnotherReplica('15550031004', 'earlier');

    const here = gated();
    runningHere(here.handler, { idleMs: 50 });
    await deliver('15550031004', ['later']);
    expect(await item('later')).toMatchObject({ state: 'processing', attempts: 1 });
    await new Promise((r) => setTimeout(r, 300)); // several passes of this process's worker
    expect(here.seen).toEqual([]);

    held.finish('earlier');
    await waitFor(() => here.seen.includes('later'), 10_000);
    here.finish('later');
    await waitFor(async () => (await item('later'))?.state === 'done', 10_000);
    expect(await item('later')).toMatchObject({ state: 'done', attempts: 1 });
    expect(await claimIds()).toEqual([`inbox:${idOf('earlier')}:0`]);
  });

  it('is not written into the hand of a worker that is far behind: stored open, claimed as usual', async () => {
    const here = gated();
    runningHere(here.handler, { concurrency: 1 });
    await deliver('15550031005', ['a']);
    await waitFor(() => here.seen.includes('a'), 10_000);
    // One in hand; the next ones wait in its hand until it holds HAND_OVER_DEPTH times its concurrency.
    const waiting = Array.from({ length: HAND_OVER_DEPTH }, (_, i) => `b${i}`);
    for (const [i, text] of waiting.entries()) await deliver(`155500312${String(i).padStart(2, '0')}`, [text]);
    const inHand = waiting.slice(0, HAND_OVER_DEPTH - 1);
    const last = waiting.at(-1)!;
    for (const text of ['a', ...inHand]) expect(await item(text)).toMatchObject({ state: 'processing', attempts: 1 });
    expect(await item(last)).toMatchObject({ state: 'pending', attempts: 0, leaseUntil: null });

    here.finish('a');
    for (let n = 1; n <= waiting.length; n++) {
      await waitFor(() => here.seen.length > n, 10_000);
      here.finish(here.seen[n]);
    }
    await waitFor(async () => (await item(last))?.state === 'done', 10_000);
    expect(here.seen.sort()).toEqual(['a', ...waiting].sort());
    // Only the one written open was claimed.
    expect(await claimIds()).toEqual([`inbox:${idOf(last)}:0`]);
  });

  it("is claimed at once, as the next generation, when it waited behind the person's earlier message until its lease ran down", async () => {
    const held = await heldByAnotherReplica('15550031008', 'slow');

    const here = gated();
    const w = runningHere(here.handler, { idleMs: 50 });
    await deliver('15550031008', ['behind']);
    expect(await item('behind')).toMatchObject({ state: 'processing', attempts: 1 });
    // More than the share of its lease a taker needs ahead has passed, but the lease still stands.
    h.clock.advance(Math.ceil((1 - TAKE_WITH_LEASE_AHEAD) * w.leaseMs) + 1000);
    held.finish('slow');
    await waitFor(() => here.seen.includes('behind'), 10_000);
    here.finish('behind');
    await waitFor(async () => (await item('behind'))?.state === 'done', 10_000);
    // Claimed (generation 1, with a fresh lease), not worked on in the dregs of its first lease, nor left to run out.
    expect(await item('behind')).toMatchObject({ state: 'done', attempts: 2 });
    expect(await claimIds()).toEqual([`inbox:${idOf('behind')}:1`, `inbox:${idOf('slow')}:0`].sort());
  });

  it('is left alone by the worker that stored it once another replica took it after its lease ran out', async () => {
    await heldByAnotherReplica('15550031009', 'first');
    const here = gated();
    // It passes only when kicked: the other replicas' work below does not kick it.
    const w = runningHere(here.handler, { idleMs: 600_000 });
    await deliver('15550031009', ['second']); // in this worker's hand, behind 'first'
    h.clock.advance(w.leaseMs * 2); // both leases run out
    const rescuer = gated();
    const third = createInboxWorker(h.deps, rescuer.handler);
    void third.runOnce();
    await waitFor(() => rescuer.seen.includes('first'), 10_000); // 'first' taken again (its holder counts as dead)
    rescuer.finish('first');
    await waitFor(async () => (await item('first'))?.state === 'done', 10_000);
    void third.runOnce();
    await waitFor(() => rescuer.seen.includes('second'), 10_000);
    expect(await item('second')).toMatchObject({ state: 'processing', attempts: 2 });
    // The worker that stored it looks again: what it was handed is someone else's now.
    w.kick();
    await new Promise((r) => setTimeout(r, 300));
    w.kick();
    await new Promise((r) => setTimeout(r, 300));
    expect(here.seen).toEqual([]);
    rescuer.finish('second');
    await waitFor(async () => (await item('second'))?.state === 'done', 10_000);
    expect(here.seen).toEqual([]);
  });

  it('a burst of deliveries fills a worker’s hand only up to its depth; the rest are stored open', async () => {
    const here = gated();
    runningHere(here.handler, { concurrency: 1 });
    const texts = Array.from({ length: HAND_OVER_DEPTH + 4 }, (_, i) => `burst${i}`);
    // All at once: every request asks for places before any of them is written.
    await Promise.all(texts.map((t, i) => deliver(`155500313${String(i).padStart(2, '0')}`, [t])));
    const states = await Promise.all(texts.map(async (t) => (await item(t))!));
    const born = states.filter((d) => d.attempts === 1 || d.state === 'processing');
    expect(born).toHaveLength(HAND_OVER_DEPTH);
    expect(states.filter((d) => d.state === 'pending' && d.attempts === 0)).toHaveLength(4);
  });
});
