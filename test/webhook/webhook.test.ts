import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createInboxWorker } from '../../src/inbox/worker';
import type { ClaimedItem } from '../../src/store/inboxStore';
import { contentKey, messageKey, statusKey } from '../../src/privacy/ids';
import type { Pii } from '../../src/privacy/pii';
import { createHarness, TestClock, TEST_VERIFY_TOKEN, type Harness } from '../support/harness';
import { rawDump } from '../support/testDb';
import { envelope, FIXTURES, messagesChange, metaWire, sign, signed, textMessage, wamid, wireFixture, wireFixtureNames } from '../support/whatsapp';

/**
 * What the inbox must hold for a delivery, derived from the fixture: one item per message, status
 * and preference change, each under our keyed id of it (never Meta's id, which encodes a number).
 */
function expectedInboxIds(pii: Pii, payload: any): string[] {
  const ids: string[] = [];
  for (const e of payload.entry) {
    for (const c of e.changes) {
      for (const m of c.value.messages ?? []) ids.push(messageKey(pii, m.id));
      for (const s of c.value.statuses ?? []) ids.push(statusKey(pii, s.id, s.status));
      for (const p of c.value.user_preferences ?? [])
        ids.push(contentKey(pii, 'pref', `${p.wa_id ?? ''}|${p.user_id ?? ''}|${p.category}|${p.value}|${p.timestamp}`));
    }
  }
  return ids.sort();
}

/** Every WhatsApp message id in a delivery (they encode the sender's or recipient's number). */
function metaIdsOf(payload: any): string[] {
  return payload.entry.flatMap((e: any) => e.changes.flatMap((c: any) => [...(c.value.messages ?? []), ...(c.value.statuses ?? [])].map((x: any) => x.id)));
}

/** The signed wire fixtures were captured around 2026-09-21T14:20Z (timestamps ≈ 1790000400). */
const FIXTURE_TIME = new Date('2026-09-21T15:00:00Z');

function post(h: Harness, raw: string | Buffer, signature?: string) {
  const r = request(h.app).post('/webhook').set('content-type', 'application/json');
  if (signature !== undefined) r.set('x-hub-signature-256', signature);
  return r.send(raw);
}

describe('GET /webhook (verification handshake)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('handshake');
  });
  afterAll(() => h.close());

  it('with the right token answers 200 with the challenge as plain text', async () => {
    const r = await request(h.app).get('/webhook').query({ 'hub.mode': 'subscribe', 'hub.verify_token': TEST_VERIFY_TOKEN, 'hub.challenge': '1158201444' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/plain/);
    expect(r.text).toBe('1158201444');
  });

  it('with a wrong token answers 403', async () => {
    await request(h.app).get('/webhook').query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': '1' }).expect(403);
  });

  it('with another mode answers 403', async () => {
    await request(h.app).get('/webhook').query({ 'hub.mode': 'unsubscribe', 'hub.verify_token': TEST_VERIFY_TOKEN, 'hub.challenge': '1' }).expect(403);
  });

  it.each([['hub.mode'], ['hub.verify_token'], ['hub.challenge']])('without %s answers 400', async (missing) => {
    const q: Record<string, string> = { 'hub.mode': 'subscribe', 'hub.verify_token': TEST_VERIFY_TOKEN, 'hub.challenge': '1' };
    delete q[missing];
    await request(h.app).get('/webhook').query(q).expect(400);
  });
});

describe('POST /webhook', () => {
  let h: Harness;
  beforeEach(async () => {
    // Near the fixtures' time: older events are kept aside as replays (WEBHOOK_REPLAY_WINDOW_HOURS).
    h = await createHarness('webhook', { clock: new TestClock(FIXTURE_TIME) });
  });
  afterEach(() => h.close());

  describe.each(wireFixtureNames())('with the signed fixture %s', (name) => {
    it('answers 200 and stores exactly its items in the inbox', async () => {
      const { raw, signature } = wireFixture(name);
      await post(h, raw, signature).expect(200);
      const payload = JSON.parse(raw);
      const docs = await h.deps.models.Inbox.find({}).lean();
      const expected = expectedInboxIds(h.deps.pii, payload);
      expect(expected.length).toBeGreaterThan(0);
      expect(docs.map((d) => d._id).sort()).toEqual(expected);
      const prefs = payload.entry.flatMap((e: any) => e.changes.flatMap((c: any) => c.value.user_preferences ?? []));
      if (prefs.length) expect(docs.every((d) => d.field === 'user_preferences' && d._id.startsWith('pref_'))).toBe(true);
      expect(docs.map((d) => d.state)).toEqual(docs.map(() => 'pending'));
      // Stored sealed: the raw payload's personal values are not in the document, nor Meta's ids.
      const metaIds = metaIdsOf(payload);
      for (const d of docs) {
        const json = JSON.stringify(d);
        expect(json).not.toContain('15550002222');
        expect(json).not.toContain('wamid.');
        for (const id of metaIds) expect(json).not.toContain(id);
      }
    });
  });

  it('re-serialised with unescaped unicode but the original signature answers 401', async () => {
    const { raw, signature } = wireFixture('inbound_text_unicode_delete');
    const reserialised = JSON.stringify(JSON.parse(raw));
    expect(reserialised).not.toBe(raw);
    await post(h, reserialised, signature).expect(401);
    expect(await h.deps.models.Inbox.countDocuments()).toBe(0);
  });

  it.each([
    ['a forged signature', sign('something else')],
    ['a signature made with another secret', undefined],
    ['a malformed header', 'sha1=abc'],
    ['no signature', null],
  ])('with %s answers 401, counts it, logs no body and writes nothing anywhere', async (_label, sig) => {
    const { raw } = wireFixture('inbound_text_stop');
    const signature = sig === undefined ? sign(raw, 'another-secret') : sig;
    const r = await post(h, raw, signature ?? undefined);
    expect(r.status).toBe(401);
    expect(await rawDump(h.db.conn)).toEqual([]);
    const metrics = await request(h.app).get('/metrics');
    expect(metrics.text).toMatch(/webhook_deliveries_total\{outcome="bad_signature"\} 1/);
    expect(h.logs.text()).toContain('"event":"webhook_bad_signature"');
    expect(h.logs.text()).not.toContain('STOP');
    expect(h.logs.text()).not.toContain('15550002222');
  });

  it('with a body of 3 MB + 1 byte answers 413 and stores nothing', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 1, 0x20);
    await post(h, big, sign(big)).expect(413);
    expect(await h.deps.models.Inbox.countDocuments()).toBe(0);
  });

  it('with a signed body that is not JSON answers 400', async () => {
    const raw = 'this is not json';
    await post(h, raw, sign(raw)).expect(400);
  });

  it('with signed JSON that is not a whatsapp_business_account delivery answers 400', async () => {
    for (const body of [{ object: 'page', entry: [] }, { hello: 'world' }, [1, 2]]) {
      const raw = JSON.stringify(body);
      await post(h, raw, sign(raw)).expect(400);
    }
    expect(await h.deps.models.Inbox.countDocuments()).toBe(0);
  });

  it('keeps an unknown field raw for inspection and acks 200, without processing it', async () => {
    const { raw, signature } = signed({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'account_update', value: { event: 'X' } }] }],
    });
    await post(h, raw, signature).expect(200);
    const docs = await h.deps.models.Inbox.find({}).lean();
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ field: 'account_update', type: 'unknown', state: 'ignored', _id: expect.stringMatching(/^raw_/) });
  });

  it('stores every item of a large batched delivery (entries × changes × items)', async () => {
    const ts = Math.floor(h.clock.now().getTime() / 1000);
    const changes = Array.from({ length: 10 }, (_, i) =>
      messagesChange(
        { waId: `1555010${String(i).padStart(4, '0')}` },
        Array.from({ length: 100 }, (_, j) => textMessage(`hello ${j}`, { timestamp: ts })),
      ),
    );
    const payload = {
      object: 'whatsapp_business_account',
      entry: [
        { id: 'a', changes: changes.slice(0, 5) },
        { id: 'b', changes: changes.slice(5) },
      ],
    };
    const { raw, signature } = signed(payload);
    await post(h, raw, signature).expect(200);
    expect(await h.deps.models.Inbox.countDocuments({ field: 'messages', state: 'pending' })).toBe(1000);
    expect((await h.deps.models.Inbox.find({}, { _id: 1 }).lean()).map((d) => d._id).sort()).toEqual(expectedInboxIds(h.deps.pii, payload));
  });

  describe('with batched_mixed posted 5 times, also concurrently', () => {
    it('records every message and status once and processes each once', async () => {
      const { raw, signature } = wireFixture('batched_mixed');
      await post(h, raw, signature).expect(200);
      const results = await Promise.all([post(h, raw, signature), post(h, raw, signature), post(h, raw, signature), post(h, raw, signature)]);
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      const expected = expectedInboxIds(h.deps.pii, JSON.parse(raw));
      expect(expected).toHaveLength(4);
      expect((await h.deps.models.Inbox.find({}).lean()).map((d) => d._id).sort()).toEqual(expected);

      const handled: string[] = [];
      const worker = createInboxWorker(h.deps, async (item) => {
        handled.push(item.id);
      });
      while ((await worker.runOnce()) > 0);
      await post(h, raw, signature).expect(200);
      while ((await worker.runOnce()) > 0);
      expect(handled.sort()).toEqual(expected);
      expect(await h.deps.models.Inbox.countDocuments({ state: 'done' })).toBe(4);
    });
  });
});

describe('the inbox worker', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness('inboxworker');
    textOf.clear();
  });
  afterEach(() => h.close());

  /** Inbox id → the text of the message it holds, for every message delivered so far. */
  const textOf = new Map<string, string>();
  /** The inbox id of the message with this text (texts are unique within a test). */
  const idOf = (text: string) => [...textOf].find(([, t]) => t === text)![0];
  const label = (id: string) => {
    const t = textOf.get(id);
    if (t === undefined) throw new Error(`unexpected inbox item ${id}`);
    return t;
  };

  async function deliver(waId: string, texts: string[], baseTs = Math.floor(h.clock.now().getTime() / 1000) - 60) {
    const msgs = texts.map((t, i) => textMessage(t, { id: wamid(waId), timestamp: baseTs + i }));
    for (const m of msgs) textOf.set(messageKey(h.deps.pii, m.id as string), (m.text as { body: string }).body);
    const { raw, signature } = signed(envelope(messagesChange({ waId }, msgs)));
    await post(h, raw, signature).expect(200);
  }

  it('when killed after claiming an item, processes it exactly once after the lease expires', async () => {
    await deliver('15550009001', ['one']);
    const completed: string[] = [];
    // The first worker claims the item and dies mid-processing (its handler never returns).
    const dying = createInboxWorker(h.deps, () => new Promise<void>(() => undefined), { leaseMs: 30_000 });
    void dying.runOnce();
    await new Promise((r) => setTimeout(r, 300));
    const doc = await h.deps.models.Inbox.findOne({}).lean();
    expect(doc).toMatchObject({ state: 'processing', attempts: 1 });

    const survivor = createInboxWorker(h.deps, async (item) => {
      completed.push(item.id);
    });
    expect(await survivor.runOnce()).toBe(0); // lease still held
    h.clock.advance(31_000);
    expect(await survivor.runOnce()).toBe(1);
    expect(await survivor.runOnce()).toBe(0);
    expect(completed).toEqual([idOf('one')]);
    expect(await h.deps.models.Inbox.findOne({}).lean()).toMatchObject({ state: 'done', attempts: 2 });
  });

  it('preserves order per subscriber while other subscribers go ahead', async () => {
    await deliver('15550009002', ['a1', 'a2', 'a3']);
    await deliver('15550009003', ['b1', 'b2']);
    const seen: string[] = [];
    let releaseA1!: () => void;
    const a1Blocked = new Promise<void>((r) => (releaseA1 = r));
    const worker = createInboxWorker(h.deps, async (item: ClaimedItem) => {
      if (label(item.id) === 'a1') await a1Blocked;
      seen.push(label(item.id));
    });
    const first = worker.runOnce();
    await new Promise((r) => setTimeout(r, 200));
    // While a1 is in hand, a second pass must not take a2 (but may take b2 once b1 is done).
    const second = await worker.runOnce();
    expect(seen).not.toContain('a2');
    releaseA1();
    await first;
    expect(second).toBeGreaterThanOrEqual(0);
    while ((await worker.runOnce()) > 0);
    const a = seen.filter((x) => x.startsWith('a'));
    const b = seen.filter((x) => x.startsWith('b'));
    expect(a).toEqual(['a1', 'a2', 'a3']);
    expect(b).toEqual(['b1', 'b2']);
  });

  it('retries a failing item later and gives up after the attempt limit, unblocking the subscriber', async () => {
    await deliver('15550009004', ['poison', 'next']);
    const seen: string[] = [];
    const worker = createInboxWorker(
      h.deps,
      async (item) => {
        // The message quotes personal data: only the error's class may be stored.
        if (label(item.id) === 'poison') throw new TypeError('boom for 15550009004');
        seen.push(item.id);
      },
      { maxAttempts: 2 },
    );
    await worker.runOnce();
    expect(await h.deps.models.Inbox.findById(idOf('poison')).lean()).toMatchObject({ state: 'processing', attempts: 1, lastError: 'TypeError' });
    h.clock.advance(5_000);
    await worker.runOnce();
    expect(await h.deps.models.Inbox.findById(idOf('poison')).lean()).toMatchObject({ state: 'failed', attempts: 2, lastError: 'TypeError' });
    expect(JSON.stringify(await rawDump(h.db.conn))).not.toContain('boom');
    while ((await worker.runOnce()) > 0);
    expect(seen).toEqual([idOf('next')]);
  });
});

it('the wire fixtures are byte-identical to our Meta-style serialisation of the pretty fixtures', () => {
  for (const name of ['inbound_text_stop', 'inbound_text_unicode_delete', 'batched_mixed']) {
    const pretty = JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));
    expect(metaWire(pretty)).toBe(wireFixture(name).raw);
  }
});
