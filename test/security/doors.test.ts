import request from 'supertest';
import { loadConfig } from '../../src/config';
import { exportData } from '../../src/rights/exportData';
import { touchSubscriber } from '../../src/rights/subscribers';
import { createStaff } from '../../src/staff/accounts';
import { createWorkers } from '../../src/workers';
import { createChatHarness, type ChatHarness } from '../support/chat';
import { createHarness, TEST_API_TOKEN, testEnv, type Harness } from '../support/harness';
import { rawDump } from '../support/testDb';

/** The sandbox, the integration API, staff export and /metrics, probed from outside. */
const NO_WHATSAPP = { WHATSAPP_APP_SECRET: undefined, WHATSAPP_VERIFY_TOKEN: undefined, WHATSAPP_ACCESS_TOKEN: undefined, WHATSAPP_PHONE_NUMBER_ID: undefined };

describe('the sandbox', () => {
  it.each([
    ['an app secret', { WHATSAPP_APP_SECRET: 'x' }],
    ['a verify token', { WHATSAPP_VERIFY_TOKEN: 'x' }],
    ['an access token', { WHATSAPP_ACCESS_TOKEN: 'x' }],
    ['a phone number id', { WHATSAPP_PHONE_NUMBER_ID: '123' }],
  ])('is off (404) when %s is set, outside production too', async (_what, env) => {
    const h = await createHarness('secsbxoff', { env: { ...NO_WHATSAPP, NODE_ENV: 'development', ...env } });
    try {
      expect(h.deps.config.sandbox).toBe(false);
      await request(h.app).get('/sandbox').expect(404);
      await request(h.app).post('/sandbox/api/messages').send({ waId: '15550001234', text: 'hi' }).expect(404);
    } finally {
      await h.close();
    }
  });

  it('listens on loopback unless HOST is set', () => {
    expect(loadConfig(testEnv({ ...NO_WHATSAPP, NODE_ENV: 'development' })).host).toBe('127.0.0.1');
    expect(loadConfig(testEnv({ ...NO_WHATSAPP, NODE_ENV: 'development', HOST: '0.0.0.0' })).host).toBe('0.0.0.0');
    expect(loadConfig(testEnv()).host).toBe('0.0.0.0');
  });

  describe('in sandbox mode', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness('secsbx', { env: { ...NO_WHATSAPP, NODE_ENV: 'development' } });
    });
    afterAll(() => h.close());

    it('serves nothing of a subscriber who came through WhatsApp, and writes nothing for them', async () => {
      const waId = '15550011001';
      const s = await touchSubscriber(h.deps.rights, { waId }, { at: h.clock.now(), name: 'Real Person', origin: 'whatsapp' });
      const exp = await exportData(h.deps.rights, s!, { requestId: 'real-access-1', channel: 'chat' });
      const exportId = (exp.replies[1] as { exportId: string }).exportId;
      expect((await request(h.app).get('/sandbox/api/conversation').query({ waId })).body).toEqual({ consent: null, locale: null, name: null, messages: [] });
      const refused = await request(h.app).post('/sandbox/api/messages').send({ waId, text: 'STOP' });
      expect(refused.status).toBe(409);
      expect(await h.deps.models.Inbox.countDocuments({})).toBe(0);
      await request(h.app).get(`/sandbox/exports/${exportId}`).query({ waId }).expect(404);
    });

    it('answers only under a loopback name (a rebound domain gets nothing)', async () => {
      await request(h.app).get('/sandbox/api/conversation').set('host', 'evil.example').query({ waId: '15550011002' }).expect(421);
      await request(h.app).get('/sandbox').set('host', 'localhost:3000').expect(200);
    });

    it("an export is downloaded only with its own sandbox person's number", async () => {
      const waId = '15550011002';
      await request(h.app).post('/sandbox/api/messages').send({ waId, text: 'hello' }).expect(202);
      const s = await h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${waId}`) }).lean();
      expect(s).toBeNull(); // the worker has not run: nothing is processed by the edge itself
      const w = createWorkers(h.deps);
      await w.drain();
      const me = await h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${waId}`) }).lean();
      expect(me).toMatchObject({ origin: 'sandbox' });
      const exp = await exportData(h.deps.rights, me as never, { requestId: 'sbx-access-1', channel: 'chat' });
      const exportId = (exp.replies[1] as { exportId: string }).exportId;
      await request(h.app).get(`/sandbox/exports/${exportId}`).query({ waId }).expect(200);
      await request(h.app).get(`/sandbox/exports/${exportId}`).expect(404);
      await request(h.app).post('/sandbox/api/messages').send({ waId: '15550011003', text: 'hi' }).expect(202);
      await w.drain();
      await request(h.app).get(`/sandbox/exports/${exportId}`).query({ waId: '15550011003' }).expect(404);
      // Expired: gone even before the sweep.
      h.clock.advance(8 * 86_400_000);
      await request(h.app).get(`/sandbox/exports/${exportId}`).query({ waId }).expect(404);
      await w.stop();
    });
  });
});

describe('the integration API', () => {
  let h: ChatHarness;
  const OTHER_TOKEN = 'another-integration-token-0123456789';
  const auth = (t = TEST_API_TOKEN) => ({ authorization: `Bearer ${t}` });
  beforeAll(async () => {
    h = await createChatHarness('secapi', { env: { INTEGRATION_API_TOKENS: `${TEST_API_TOKEN},${OTHER_TOKEN}` } });
  });
  afterAll(() => h.close());

  const counts = async () => (await rawDump(h.db.conn)).length;

  it('a refused POST /messages (erased, opted out, outside the window) leaves no new record', async () => {
    const erased = '15550012001';
    await h.say(erased, 'DELETE');
    await h.press(erased, 'erase.yes');
    const optedOut = '15550012002';
    await h.say(optedOut, 'STOP');
    const before = await counts();
    const bodies = new Set<string>();
    for (const [to, category] of [
      [erased, 'service'],
      [erased, 'marketing'],
      [optedOut, 'marketing'],
      ['15550012003', 'service'], // never seen: no window
      ['15550012003', 'marketing'],
    ]) {
      const r = await request(h.app)
        .post('/api/v1/messages')
        .set(auth())
        .send({ to: `+${to}`, category, text: 'Hello' });
      expect(r.status).toBe(409);
      bodies.add(JSON.stringify(r.body));
    }
    // One answer for every reason: an erased number reads like one never seen.
    expect(bodies.size).toBe(1);
    expect(await counts()).toBe(before);
  });

  it('/sendability cannot tell an erased number from a never-seen one, by body or by time', async () => {
    const erased = '15550012001';
    const unseen = '15550012999';
    const times: Record<string, number[]> = { erased: [], unseen: [] };
    for (let i = 0; i < 15; i++) {
      for (const [kind, n] of [
        ['erased', erased],
        ['unseen', unseen],
      ]) {
        const t0 = process.hrtime.bigint();
        const r = await request(h.app).get(`/api/v1/sendability/%2B${n}`).set(auth());
        times[kind].push(Number(process.hrtime.bigint() - t0) / 1e6);
        expect(r.status).toBe(200);
        expect(r.body).toEqual({ marketing: false });
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    expect(Math.abs(median(times.erased) - median(times.unseen))).toBeLessThanOrEqual(Math.max(spread(times.erased), spread(times.unseen)));
  });

  it('an Idempotency-Key belongs to its token and its request: same body → same id, other body → 422, malformed → 400', async () => {
    const to = '15550012004';
    await h.say(to, 'hello'); // opens the 24-hour window
    const send = (key: string, text: string, token?: string) =>
      request(h.app)
        .post('/api/v1/messages')
        .set(auth(token))
        .set('idempotency-key', key)
        .send({ to: `+${to}`, category: 'service', text });
    const first = await send('order-1042-shipped', 'Your order shipped');
    expect(first.status).toBe(202);
    expect(first.body.queued).toBe(true);
    const again = await send('order-1042-shipped', 'Your order shipped');
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ id: first.body.id, queued: false });
    const other = await send('order-1042-shipped', 'Something else');
    expect(other.status).toBe(422);
    // The same key from another caller is another request.
    const otherCaller = await send('order-1042-shipped', 'Your order shipped', OTHER_TOKEN);
    expect(otherCaller.status).toBe(202);
    expect(otherCaller.body.id).not.toBe(first.body.id);
    for (const bad of ['has space', 'x'.repeat(101), 'semi;colon']) expect((await send(bad, 'Your order shipped')).status).toBe(400);
    // Two requests at once under one key with different bodies: one is queued, the other told 422.
    const [a, b] = await Promise.all([send('race-1', 'Body A'), send('race-1', 'Body B')]);
    expect([a.status, b.status].sort()).toEqual([202, 422]);
    await h.workers.drain();
    expect(h.fake.deliveredTo(to).filter((b) => b.text?.body === 'Your order shipped')).toHaveLength(2);
  });
});

describe('staff export and /metrics', () => {
  it('an export asks for a reason and counts as a reveal', async () => {
    const h = await createChatHarness('secexport');
    try {
      await createStaff(h.deps, null, { email: 'agent@acme.test', name: 'A', role: 'agent', password: 'correct horse battery staple' });
      const agent = request.agent(h.app);
      const { csrf } = (await agent.post('/staff/api/login').send({ email: 'agent@acme.test', password: 'correct horse battery staple' }).expect(200)).body;
      await h.say('15550013001', 'hello', { name: 'Ex Port' });
      const id = String((await h.deps.models.Subscriber.findOne({}).lean())!._id);
      expect((await agent.post(`/staff/api/conversations/${id}/export`).set('x-csrf-token', csrf).send({})).status).toBe(400);
      expect((await agent.post(`/staff/api/conversations/${id}/export`).set('x-csrf-token', csrf).send({ reason: 'hm' })).status).toBe(409);
      const ok = await agent.post(`/staff/api/conversations/${id}/export`).set('x-csrf-token', csrf).send({ reason: 'person_request' });
      expect(ok.status).toBe(200);
      expect(ok.body.subject.whatsappNumber).toBe('+15550013001');
      expect(await h.deps.models.StaffAudit.findOne({ action: 'export' }).lean()).toMatchObject({ detail: 'person_request' });
      expect((await request(h.app).get('/metrics')).text).toMatch(/security_events_total\{event="staff_reveal"\} 1/);
    } finally {
      await h.close();
    }
  });

  it('with METRICS_TOKEN set, /metrics needs it', async () => {
    const h = await createHarness('secmetrics', { env: { METRICS_TOKEN: 'scrape-token-0123456789' } });
    try {
      await request(h.app).get('/metrics').expect(401);
      await request(h.app).get('/metrics').set('authorization', 'Bearer wrong').expect(401);
      await request(h.app).get('/metrics').set('authorization', 'Bearer scrape-token-0123456789').expect(200);
    } finally {
      await h.close();
    }
  });
});
