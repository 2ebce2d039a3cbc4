import request from 'supertest';
import { at } from '../../src/privacy/pii';
import { bodyText, createChatHarness, type ChatHarness } from '../support/chat';
import { createHarness, TEST_API_TOKEN } from '../support/harness';

let h: ChatHarness;
beforeEach(async () => {
  h = await createChatHarness('api');
});
afterEach(() => h.close());

const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };
const sendability = async (phone: string) =>
  (
    await request(h.app)
      .get(`/api/v1/sendability/${encodeURIComponent(phone)}`)
      .set(auth)
      .expect(200)
  ).body;
const market = (to: string, text = 'Big sale today') => request(h.app).post('/api/v1/messages').set(auth).send({ to, category: 'marketing', text });
const marketingReached = (waId: string) => h.fake.deliveredTo(waId).filter((b) => bodyText(b) === 'Big sale today');

describe('GET /api/v1/sendability/:phone and POST /api/v1/messages through the consent gate', () => {
  it('an unknown number may not be marketed to', async () => {
    expect(await sendability('+15550300001')).toEqual({ marketing: false });
    await market('+15550300001').expect(409);
  });

  it('after START: true, and marketing is queued and delivered once; after STOP: false, refused, never reaches Graph', async () => {
    const waId = '15550300002';
    await h.say(waId, 'START');
    expect(await sendability(`+${waId}`)).toEqual({ marketing: true });
    expect(await sendability(waId)).toEqual({ marketing: true }); // with or without "+"
    const queued = await market(`+${waId}`).expect(202);
    expect(queued.body.id).toMatch(/^api:/);
    await h.workers.drain();
    expect(marketingReached(waId)).toHaveLength(1);

    await h.say(waId, 'STOP');
    expect(await sendability(`+${waId}`)).toEqual({ marketing: false });
    const refused = await market(`+${waId}`).expect(409);
    expect(refused.body).toEqual({ error: 'this message cannot be sent to this number now (no consent, no open 24-hour window, or not reachable)' });
    await h.workers.drain();
    expect(marketingReached(waId)).toHaveLength(1);

    await h.say(waId, 'START');
    expect(await sendability(`+${waId}`)).toEqual({ marketing: true });
    await market(`+${waId}`).expect(202);
    await h.workers.drain();
    expect(marketingReached(waId)).toHaveLength(2);
  });

  it('after DELETE: refused forever, and a third party cannot re-subscribe the number', async () => {
    const waId = '15550300003';
    await h.say(waId, 'START');
    await h.say(waId, 'DELETE');
    await h.press(waId, 'erase.yes');
    expect(await sendability(`+${waId}`)).toEqual({ marketing: false });
    await market(`+${waId}`).expect(409);
    await request(h.app)
      .post('/api/v1/consents')
      .set(auth)
      .send({ to: `+${waId}`, source: 'web form', collectedAt: h.clock.now().toISOString() })
      .expect(409);
    expect(await sendability(`+${waId}`)).toEqual({ marketing: false });
    h.clock.advance(365 * 86_400_000);
    expect(await sendability(`+${waId}`)).toEqual({ marketing: false });
  });

  it('a service message is allowed after STOP (it is not marketing)', async () => {
    const waId = '15550300004';
    await h.say(waId, 'STOP');
    await request(h.app).post('/api/v1/messages').set(auth).send({ to: waId, category: 'service', text: 'Your parcel has shipped' }).expect(202);
    await h.workers.drain();
    expect(h.fake.deliveredTo(waId).map(bodyText)).toContain('Your parcel has shipped');
  });

  it('an Idempotency-Key makes a retried request queue the message once', async () => {
    const waId = '15550300005';
    await h.say(waId, 'START');
    for (let i = 0; i < 3; i++) await market(waId).set('idempotency-key', 'campaign-7-15550300005').expect(202);
    await h.workers.drain();
    expect(marketingReached(waId)).toHaveLength(1);
  });
});

describe('POST /api/v1/consents', () => {
  it('records an opt-in collected elsewhere with its source and time (201), and makes the number sendable', async () => {
    const waId = '15550300006';
    const collectedAt = new Date(h.clock.now().getTime() - 3600_000).toISOString();
    const r = await request(h.app)
      .post('/api/v1/consents')
      .set(auth)
      .send({ to: `+${waId}`, source: 'shop counter, Lisbon', collectedAt })
      .expect(201);
    expect(r.body).toMatchObject({ marketing: true });
    expect(await sendability(waId)).toEqual({ marketing: true });
    const s = await h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${waId}`) }).lean();
    const consents = await h.deps.models.Consent.find({ subscriberId: s!._id }).lean();
    expect(consents).toEqual([
      expect.objectContaining({ action: 'grant', source: 'api', detailEnc: expect.stringMatching(/^e2\./), at: new Date(collectedAt) }),
    ]);
    // The stated source is free text: sealed at its place, readable with the key.
    expect(h.deps.pii.decrypt(consents[0].detailEnc!, at('consents', 'detailEnc', consents[0]._id))).toBe('shop counter, Lisbon');
    expect(JSON.stringify(consents)).not.toContain('shop counter');
  });

  it("a consent older than the person's STOP is kept in the history but does not override it", async () => {
    const waId = '15550300007';
    await h.say(waId, 'STOP');
    const r = await request(h.app)
      .post('/api/v1/consents')
      .set(auth)
      .send({ to: waId, source: 'old web form', collectedAt: new Date(h.clock.now().getTime() - 86_400_000).toISOString() })
      .expect(201);
    expect(r.body.marketing).toBe(false);
    expect(await sendability(waId)).toEqual({ marketing: false });
    const s = await h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${waId}`) }).lean();
    expect(s!.consent).toBe('opted_out');
    const history = await h.deps.models.Consent.find({ subscriberId: s!._id }).sort({ at: 1 }).lean();
    expect(history.map((c) => [c.action, c.source])).toEqual([
      ['grant', 'api'],
      ['withdraw', 'keyword'],
    ]);
  });

  it.each([
    [{ to: 'not-a-number', source: 'x', collectedAt: '2026-11-01T00:00:00Z' }],
    [{ to: '+15550300008', source: '', collectedAt: '2026-11-01T00:00:00Z' }],
    [{ to: '+15550300008', source: 'x', collectedAt: 'yesterday' }],
    [{ to: '+15550300008', source: 'x', collectedAt: '2099-01-01T00:00:00Z' }],
    [{ source: 'x' }],
  ])('answers 400 for %p', async (body) => {
    const r = await request(h.app).post('/api/v1/consents').set(auth).send(body).expect(400);
    expect(r.body.problems.length).toBeGreaterThan(0);
  });
});

describe('authentication and validation', () => {
  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer nope' }],
    ['a token with another scheme', { authorization: `Basic ${TEST_API_TOKEN}` }],
  ])('with %s answers 401 on every endpoint', async (_l, headers) => {
    await request(h.app).get('/api/v1/sendability/+15550300001').set(headers).expect(401);
    await request(h.app).post('/api/v1/consents').set(headers).send({}).expect(401);
    await request(h.app).post('/api/v1/messages').set(headers).send({}).expect(401);
  });

  it.each([
    [{ to: '+15550300001', category: 'marketing' }],
    [{ to: '+15550300001', category: 'spam', text: 'x' }],
    [{ to: '12', category: 'service', text: 'x' }],
    [{ to: '+15550300001', category: 'service', text: '' }],
    ['not json at all'],
  ])('POST /api/v1/messages answers 400 for %p', async (body) => {
    const r = request(h.app).post('/api/v1/messages').set(auth);
    if (typeof body === 'string') await r.set('content-type', 'application/json').send(body).expect(400);
    else await r.send(body).expect(400);
  });

  it('GET /api/v1/sendability with a malformed number answers 400', async () => {
    await request(h.app).get('/api/v1/sendability/abc').set(auth).expect(400);
  });

  it('with no tokens configured the API is off', async () => {
    const off = await createHarness('apioff', { env: { INTEGRATION_API_TOKENS: '' } });
    try {
      await request(off.app).get('/api/v1/sendability/+15550300001').set(auth).expect(404);
    } finally {
      await off.close();
    }
  });
});
