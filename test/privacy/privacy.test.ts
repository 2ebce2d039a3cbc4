import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Deps } from '../../src/deps';
import { createPii, parseEncryptionKeys } from '../../src/privacy/pii';
import { sweepRetention } from '../../src/maintenance/sweepRetention';
import { rotateKeys } from '../../src/maintenance/rotateKeys';
import { collectSubjectData } from '../../src/rights/subjectExport';
import type { Subscriber } from '../../src/store/subscriberStore';
import { createStores } from '../../src/store/stores';
import { createChatHarness, type ChatHarness } from '../support/chat';
import { createHarness, TEST_KEYS } from '../support/harness';
import { rawDump } from '../support/testDb';
import { sign } from '../support/whatsapp';
import { at } from '../../src/privacy/pii';
import { traceOf } from './traces';

const ALICE = { waId: '15550409001', name: 'Alice Privacy-Tester' };
const BRUNO = { waId: '15550409002', name: 'Bruno Gets-Erased' };
const TEXTS = ['my card ends in 4242, please check order A-77', 'Bruno here with a private question about invoice 9931'];

/** STOP, MY DATA, free text, and the DELETE of another subscriber. */
async function scriptedConversation(h: ChatHarness) {
  await h.say(ALICE.waId, 'START', { name: ALICE.name });
  await h.say(ALICE.waId, TEXTS[0], { name: ALICE.name });
  await h.say(BRUNO.waId, TEXTS[1], { name: BRUNO.name });
  await h.say(ALICE.waId, 'STOP', { name: ALICE.name });
  await h.say(ALICE.waId, 'MY DATA', { name: ALICE.name });
  await h.say(BRUNO.waId, 'DELETE', { name: BRUNO.name });
  await h.press(BRUNO.waId, 'erase.yes');
}

const NEEDLES = [
  ALICE.waId,
  BRUNO.waId,
  ALICE.name,
  BRUNO.name,
  'Privacy-Tester',
  'Gets-Erased',
  'ends in 4242',
  'order A-77',
  'invoice 9931',
  'private question',
];

describe('personal data at rest and in logs', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await createChatHarness('privacyscan');
    await scriptedConversation(h);
  });
  afterAll(() => h.close());

  it('a raw scan of every collection, bypassing mongoose, finds no plaintext number, name or message text', async () => {
    const dump = await rawDump(h.db.conn);
    expect(dump.length).toBeGreaterThan(20);
    const collections = new Set(dump.map((d) => d.collection));
    for (const c of ['subscribers', 'messages', 'inbox', 'outbox', 'consents', 'ledger', 'requests', 'exports']) expect(collections).toContain(c);
    for (const { collection, json } of dump) {
      for (const needle of NEEDLES) {
        if (json.includes(needle)) throw new Error(`${collection} holds "${needle}" in plaintext: ${json.slice(0, 200)}`);
      }
      // Nor encoded: WhatsApp message ids are base64 of a structure holding the number.
      for (const waId of [ALICE.waId, BRUNO.waId]) {
        const trace = traceOf(waId, json);
        if (trace) throw new Error(`${collection} holds ${waId} ${trace}`);
      }
    }
    // The scan would see them: the conversation's message ids (ours and Meta's) do encode the numbers.
    const metaIds = h.fake.delivered().map((r) => r.messageId!);
    expect(metaIds.length).toBeGreaterThan(5);
    expect(metaIds.some((id) => traceOf(ALICE.waId, id) !== null)).toBe(true);
    // …while the data is all there for Alice, sealed (AES-256-GCM, with the key id).
    const alice = (await h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${ALICE.waId}`) }).lean()) as Subscriber;
    expect(alice.waIdEnc).toMatch(/^e2\.k1\./);
    expect(h.deps.pii.decrypt(alice.nameEnc!, at('subscribers', 'nameEnc', alice._id))).toBe(ALICE.name);
  });

  it('the logs of the whole conversation, at debug level, contain no number, name, text or token', () => {
    const logs = h.logs.text();
    expect(h.logs.lines.length).toBeGreaterThan(10);
    expect(logs).toContain('"level":20'); // debug lines were written
    for (const needle of [...NEEDLES, 'graph-token-for-tests', 'test_app_secret_not_real', 'MY DATA']) expect(logs).not.toContain(needle);
    for (const waId of [ALICE.waId, BRUNO.waId]) expect(traceOf(waId, logs)).toBeNull();
  });

  it('a request path with a number (sendability) is logged masked', async () => {
    const before = h.logs.lines.length;
    await request(h.app).get(`/api/v1/sendability/+${ALICE.waId}`).set('authorization', 'Bearer integration-token-for-tests-0123456789').expect(200);
    const lines = h.logs.lines.slice(before).join('\n');
    expect(lines).toContain('sendability/[number]');
    expect(lines).not.toContain(ALICE.waId);
  });
});

describe('key rotation', () => {
  it('re-encrypts every document under the new key; the old key can then be removed and MY DATA still returns the full history', async () => {
    const h = await createChatHarness('rotation');
    try {
      await scriptedConversation(h);
      const k2 = `k2:${Buffer.alloc(32, 3).toString('base64')}`;
      const both: Deps = {
        ...h.deps,
        pii: createPii({
          encryptionKeys: parseEncryptionKeys(`${k2},${TEST_KEYS.PII_ENCRYPTION_KEYS}`),
          hmacKey: Buffer.from(TEST_KEYS.PII_HMAC_KEY, 'base64'),
        }),
      };
      const first = await rotateKeys(both, { batch: 7 });
      expect(first.activeKeyId).toBe('k2');
      expect(first.reEncrypted).toBeGreaterThan(20);
      expect(first.remaining).toBe(0);
      expect((await rotateKeys(both)).reEncrypted).toBe(0); // resumable: a second run finds nothing left

      const dump = (await rawDump(h.db.conn)).map((d) => d.json).join('\n');
      expect(dump).not.toMatch(/"e[12]\.k1\./);
      expect(dump).toMatch(/"e2\.k2\./);

      const onlyNew: Deps = { ...h.deps, pii: createPii({ encryptionKeys: parseEncryptionKeys(k2), hmacKey: Buffer.from(TEST_KEYS.PII_HMAC_KEY, 'base64') }) };
      const alice = (await onlyNew.models.Subscriber.findOne({ key: onlyNew.pii.blindIndex(`wa:${ALICE.waId}`) }).lean()) as Subscriber;
      const data = await collectSubjectData({ ...h.deps.rights, ...createStores(h.deps.models, onlyNew.pii, h.deps.clock) }, alice);
      expect(data.subject).toMatchObject({ whatsappNumber: `+${ALICE.waId}`, profileName: ALICE.name });
      expect(data.messages.filter((m) => m.direction === 'in').map((m) => m.text)).toEqual(['START', TEXTS[0], 'STOP', 'MY DATA']);
      expect(data.messages.filter((m) => m.direction === 'out').length).toBeGreaterThanOrEqual(3);
    } finally {
      await h.close();
    }
  });
});

describe('the tamper-evident ledger', () => {
  it('verifies intact, and editing one entry directly makes verification fail naming that entry', async () => {
    const h = await createChatHarness('ledger');
    try {
      await scriptedConversation(h);
      const ok = await h.deps.stores.ledger.verify();
      expect(ok).toMatchObject({ ok: true });
      expect(ok.entries).toBeGreaterThan(8);

      const victim = await h.deps.models.Ledger.findOne({ event: 'opt_out.done' }).lean();
      await h.db.conn.db!.collection('ledger').updateOne({ _id: victim!._id as never }, { $set: { detail: 'marketing consent kept' } });
      const broken = await h.deps.stores.ledger.verify();
      expect(broken).toMatchObject({
        ok: false,
        firstBroken: { seq: victim!.seq, requestId: victim!.requestId, event: 'opt_out.done', reason: 'content changed' },
      });
      const kept = await h.deps.models.Kv.findById('ledger.lastVerification').lean();
      expect(kept!.value).toMatchObject({ ok: false, firstBroken: { seq: victim!.seq } });

      // Deleting an entry is caught too.
      await h.db.conn.db!.collection('ledger').updateOne({ _id: victim!._id as never }, { $set: { detail: victim!.detail } });
      expect((await h.deps.stores.ledger.verify()).ok).toBe(true);
      await h.db.conn.db!.collection('ledger').deleteOne({ seq: victim!.seq + 1 });
      expect((await h.deps.stores.ledger.verify()).firstBroken).toMatchObject({ seq: victim!.seq + 2, reason: expect.stringContaining('missing') });
    } finally {
      await h.close();
    }
  });
  it('stays one unforked chain when two processes append at once, one from a stale head, and a replayed step appends nothing', async () => {
    const h = await createChatHarness('ledgerrace');
    try {
      // Two replicas of the ledger on one database: each keeps its own idea of the head.
      const a = h.deps.stores.ledger;
      const b = createStores(h.deps.models, h.deps.pii, h.deps.clock).ledger;
      const event = (i: number) => ({ requestId: `race${i}`, subscriberToken: 'tok', event: 'opt_out.received', detail: 'chat' });
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).append(event(i))));
      // Replays, from either side, and pairs written as one (a STOP's receipt and outcome).
      await Promise.all([a.append(event(3)), b.append(event(4)), a.appendAll([event(40), { ...event(40), event: 'opt_out.done' }])]);
      // A process started later reads the head persisted a moment ago (possibly behind) and walks on.
      const c = createStores(h.deps.models, h.deps.pii, h.deps.clock).ledger;
      await c.append(event(41));

      const entries = await h.deps.models.Ledger.find({ requestId: /^race/ }).sort({ seq: 1 }).lean();
      expect(entries.map((e) => e._id).sort()).toEqual([...Array.from({ length: 42 }, (_, i) => `race${i}:opt_out.received`), 'race40:opt_out.done'].sort());
      const all = await h.deps.models.Ledger.find({}, { seq: 1 }).sort({ seq: 1 }).lean();
      expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
      const done = entries.find((e) => e._id === 'race40:opt_out.done')!;
      expect(done.seq).toBe(entries.find((e) => e._id === 'race40:opt_out.received')!.seq + 1);
      expect(await a.verify()).toMatchObject({ ok: true, entries: all.length });
    } finally {
      await h.close();
    }
  });
});

describe('the retention sweeper', () => {
  it('deletes exactly the expired documents and nothing else, and the cut ledger still verifies', async () => {
    const h = await createChatHarness('retention');
    try {
      const old = '15550409101';
      const fresh = '15550409102';
      await h.say(old, 'START');
      await h.say(old, 'an old question');
      h.clock.advance(60 * 86_400_000);
      await h.say(fresh, 'START');
      await h.say(fresh, 'a recent question');
      h.clock.advance(31 * 86_400_000); // old: 91 days idle; fresh: 31 days

      const m = h.deps.models;
      const sOld = await m.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${old}`) }).lean();
      const sFresh = await m.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${fresh}`) }).lean();
      const freshMessages = await m.Message.countDocuments({ subscriberId: sFresh!._id });
      const oldMessages = await m.Message.countDocuments({ subscriberId: sOld!._id });
      const inboxBefore = await m.Inbox.countDocuments();

      const report = await sweepRetention(h.deps);
      expect(report.messages).toBe(oldMessages);
      expect(await m.Message.countDocuments({ subscriberId: sOld!._id })).toBe(0);
      expect(await m.Message.countDocuments({ subscriberId: sFresh!._id })).toBe(freshMessages);
      expect(report.inbox).toBe(inboxBefore); // every inbox item is done and older than 7 days
      expect(await m.Subscriber.countDocuments()).toBe(2); // profiles and consent proof stay
      expect(await m.Consent.countDocuments()).toBe(2);
      expect(report.ledger).toBe(0);

      // Years later the pseudonymous ledger is cut from its start; what remains still verifies.
      await h.say(fresh, 'STOP');
      h.clock.advance(2190 * 86_400_000 - 5 * 86_400_000);
      await h.say(fresh, 'START');
      h.clock.advance(10 * 86_400_000);
      const total = await m.Ledger.countDocuments();
      const cut = await sweepRetention(h.deps);
      expect(cut.ledger).toBeGreaterThan(0);
      expect(await m.Ledger.countDocuments()).toBe(total - cut.ledger);
      expect(await h.deps.stores.ledger.verify()).toMatchObject({ ok: true, entries: total - cut.ledger });
      expect((await sweepRetention(h.deps)).ledger).toBe(0);
    } finally {
      await h.close();
    }
  });
});

describe('breach signals', () => {
  it('a burst of forged webhook signatures is counted, logged, and posted once to the alert webhook', async () => {
    const received: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alert`;
    const h = await createHarness('alerts', { env: { ALERT_WEBHOOK_URL: url, ALERT_BURST_THRESHOLD: '5' } });
    try {
      for (let i = 0; i < 8; i++) {
        await request(h.app)
          .post('/webhook')
          .set('content-type', 'application/json')
          .set('x-hub-signature-256', sign('x', 'wrong'))
          .send('{"object":"whatsapp_business_account","entry":[]}')
          .expect(401);
      }
      for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(received).toHaveLength(1);
      expect(JSON.parse(received[0])).toMatchObject({ event: 'webhook_bad_signature', count: 5 });
      const metrics = await request(h.app).get('/metrics');
      expect(metrics.text).toContain('security_events_total{event="webhook_bad_signature"} 8');
      expect(h.logs.text()).toContain('security burst');
    } finally {
      await h.close();
      server.close();
    }
  });
});
