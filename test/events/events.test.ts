import { createHmac, timingSafeEqual } from 'node:crypto';
import request from 'supertest';
import { createEventWorker } from '../../src/events/worker';
import { recordExternalConsent } from '../../src/rights/externalConsent';
import { optOut } from '../../src/rights/optOut';
import { createStaff } from '../../src/staff/accounts';
import { createChatHarness, type ChatHarness } from '../support/chat';
import { FakeReceiver, type ReceivedEvent } from '../support/fakeReceiver';

/**
 * Telling the other systems (GDPR Art. 19 and 21): every right carried out in the chat becomes one
 * signed event per configured receiver, posted from a durable queue, in order per person, until the
 * receiver acknowledges it. Checked as a receiver would: with the verification recipe of
 * docs/events.md written out here, not our own signing code.
 */
const SECRET_CRM = 'crm-secret-0123456789abcdef0123456789';
const SECRET_MAIL = 'mail-secret-0123456789abcdef012345678';
const WA = '15550061001';

let h: ChatHarness;
let crm: FakeReceiver; // trusted with the number
let mail: FakeReceiver; // pseudonyms only
beforeEach(async () => {
  crm = await new FakeReceiver().start();
  mail = await new FakeReceiver().start();
  h = await createChatHarness('events', {
    env: {
      EVENT_WEBHOOK_URLS: `${crm.url},${mail.url}`,
      EVENT_WEBHOOK_SECRETS: `${SECRET_CRM},${SECRET_MAIL}`,
      EVENT_WEBHOOK_INCLUDE_NUMBER: 'true,false',
    },
  });
});
afterEach(async () => {
  await h.close();
  await crm.stop();
  await mail.stop();
});

/** docs/events.md, "Verifying an event": HMAC-SHA256 over `<t>.<raw body>` with the receiver's secret; `t` within 5 minutes. */
function verifies(secret: string, e: ReceivedEvent, nowMs = Date.now()): boolean {
  const header = String(e.headers['x-privacy-signature'] ?? '');
  const parts = Object.fromEntries(header.split(',').map((kv) => kv.split('=') as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowMs / 1000 - t) > 300 || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${e.raw}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const pseudonym = (secret: string, waId: string) => createHmac('sha256', secret).update(`wa:${waId}`).digest('hex');

/** Runs the events queue while moving the clock, as time passes while a receiver is down. */
async function runEventsFor(ms: number, step = 5000) {
  for (let t = 0; t < ms; t += step) {
    await h.workers.events.runOnce();
    h.clock.advance(step);
  }
  await h.workers.events.runOnce();
}

const EXPECTED = ['consent.withdrawn', 'access.served', 'erasure.requested', 'suppression.added', 'erasure.completed'];

describe('privacy events to the other systems that hold the data', () => {
  it('an opt-out, an access and an erasure: one signed event each per receiver, in order, after a receiver was down for a minute, the number only where trusted', async () => {
    crm.down = true;
    await h.say(WA, 'STOP');
    await h.say(WA, 'MY DATA');
    await h.say(WA, 'DELETE');
    await h.press(WA, 'erase.yes');
    // The pseudonyms-only receiver has them all already; the CRM answered 503 to each try so far.
    expect(mail.accepted().map((e) => JSON.parse(e.raw).type)).toEqual(EXPECTED);
    expect(crm.accepted()).toEqual([]);
    expect(crm.received.length).toBeGreaterThan(0);
    // In order per person: while the first is refused, nothing after it is tried.
    expect(new Set(crm.received.map((e) => JSON.parse(e.raw).type))).toEqual(new Set(['consent.withdrawn']));
    // A minute down, with retries; then back.
    await runEventsFor(60_000);
    expect(crm.accepted()).toEqual([]);
    expect(new Set(crm.received.map((e) => JSON.parse(e.raw).type))).toEqual(new Set(['consent.withdrawn']));
    expect(crm.received.length).toBeGreaterThan(3);
    crm.down = false;
    await runEventsFor(120_000);

    for (const [receiver, secret, trusted] of [
      [crm, SECRET_CRM, true],
      [mail, SECRET_MAIL, false],
    ] as const) {
      const got = receiver.accepted();
      // Exactly one of each, in the order the person acted.
      expect(got.map((e) => JSON.parse(e.raw).type)).toEqual(EXPECTED);
      expect(new Set(got.map((e) => e.headers['x-privacy-event-id'])).size).toBe(EXPECTED.length);
      for (const e of got) {
        expect(verifies(secret, e)).toBe(true);
        // A changed byte, or the other receiver's secret, does not verify.
        expect(verifies(secret, { ...e, raw: e.raw.replace('"type"', '"typ\u0065"').replace('}', ' }') })).toBe(false);
        expect(verifies(secret === SECRET_CRM ? SECRET_MAIL : SECRET_CRM, e)).toBe(false);
        const body = JSON.parse(e.raw);
        expect(body).toMatchObject({ version: 1, id: e.headers['x-privacy-event-id'], type: e.headers['x-privacy-event-type'] });
        expect(body.subject.pseudonym).toBe(pseudonym(secret, WA));
        if (trusted) expect(body.subject.number).toBe(`+${WA}`);
        else {
          expect(body.subject.number).toBeUndefined();
          expect(e.raw).not.toContain(WA.slice(-7));
        }
      }
      expect(JSON.parse(got[0].raw).data).toMatchObject({ source: 'keyword', channel: 'chat' });
    }
    // Each receiver's pseudonym of the person is its own.
    expect(pseudonym(SECRET_CRM, WA)).not.toBe(pseudonym(SECRET_MAIL, WA));

    // The queue keeps the delivery log only: no body, no token, nothing of the number.
    const docs = await h.deps.models.Event.find({}).lean();
    expect(docs).toHaveLength(2 * EXPECTED.length);
    for (const d of docs) {
      expect(d).toMatchObject({ state: 'delivered', open: false, lastStatus: '200' });
      expect(d.bodyEnc).toBeUndefined();
      expect(d.subjectKey).toBeUndefined();
    }
    expect(docs.filter((d) => d.attempts > 1).every((d) => d.receiver === docs.find((x) => x.attempts > 1)!.receiver)).toBe(true);
    expect(JSON.stringify(docs)).not.toContain(WA.slice(-7));
    expect(h.logs.text()).not.toContain(WA.slice(-7));
  });

  it("one receiver's backlog never holds back another receiver's events", async () => {
    crm.down = true;
    const people = ['15550061011', '15550061012', '15550061013'];
    for (const p of people) await h.say(p, 'STOP');
    expect(mail.accepted()).toHaveLength(3);
    // A fourth person's event, then a worker whose window is smaller than the CRM's backlog.
    const later = '15550061014';
    await h.say(later, 'HELP');
    const s = (await h.deps.stores.subscribers.find({ waId: later }))!;
    await h.deps.rights.announce({
      id: 'manual-1:consent.withdrawn',
      type: 'consent.withdrawn',
      subjectToken: s.key,
      identity: () => ({ waId: later }),
      at: h.clock.now(),
      data: { source: 'staff', channel: 'staff', requestId: 'manual-1' },
    });
    const small = createEventWorker(h.deps, { windowSize: 2 });
    expect(await small.runOnce()).toBeGreaterThanOrEqual(1);
    expect(mail.accepted().map((e) => JSON.parse(e.raw).subject.pseudonym)).toContain(pseudonym(SECRET_MAIL, later));
    expect(crm.accepted()).toEqual([]);
  });

  it('a consent recorded through the integration API is announced with its source', async () => {
    const r = await recordExternalConsent(h.deps.rights, { waId: '15550061020', source: 'checkout page', collectedAt: h.clock.now() });
    expect(r).toMatchObject({ kind: 'recorded', marketing: true });
    await h.workers.drain();
    const got = mail.accepted().map((e) => JSON.parse(e.raw));
    expect(got).toEqual([
      expect.objectContaining({ type: 'consent.granted', data: { source: 'api', channel: 'api', requestId: r.kind === 'recorded' ? r.id : '' } }),
    ]);
    expect(got[0].subject.pseudonym).toBe(pseudonym(SECRET_MAIL, '15550061020'));
  });

  it('a replayed step announces nothing twice', async () => {
    await h.say(WA, 'STOP');
    const before = await h.deps.models.Event.countDocuments({});
    // The same STOP delivered again by Meta (same message id), and the use case run again on its request id.
    const s = (await h.deps.stores.subscribers.find({ waId: WA }))!;
    const first = await h.deps.models.Consent.findOne({ action: 'withdraw' }).lean();
    const requestId = String(first!._id).replace(/:withdraw$/, '');
    await optOut(h.deps.rights, { ...s, consent: 'opted_out' }, { requestId, source: 'keyword', channel: 'chat', at: new Date(first!.at) });
    await h.workers.drain();
    expect(await h.deps.models.Event.countDocuments({})).toBe(before);
    expect(mail.accepted()).toHaveLength(1);
    expect(crm.accepted()).toHaveLength(1);
  });

  it('a receiver that keeps failing raises one ops alert, naming the receiver and not the person', async () => {
    const alerts = await new FakeReceiver().start();
    const h2 = await createChatHarness('eventsalert', {
      env: {
        EVENT_WEBHOOK_URLS: crm.url,
        EVENT_WEBHOOK_SECRETS: SECRET_CRM,
        EVENT_WEBHOOK_ALERT_AFTER_FAILURES: '3',
        ALERT_WEBHOOK_URL: alerts.url,
      },
    });
    try {
      crm.down = true;
      await h2.say(WA, 'STOP');
      for (let i = 0; i < 8; i++) {
        h2.clock.advance(70_000);
        await h2.workers.events.runOnce();
      }
      await new Promise((r) => setTimeout(r, 300)); // the alert is posted without waiting
      expect(crm.received.length).toBeGreaterThanOrEqual(4);
      expect(alerts.received).toHaveLength(1); // not once per failure
      const alert = JSON.parse(alerts.received[0].raw);
      expect(alert).toMatchObject({ event: 'event_receiver_failing', failures: 3, lastStatus: '503', receiver: h2.deps.config.events.receivers[0].id });
      expect(alerts.received[0].raw).not.toContain(WA.slice(-7));
      expect(h2.logs.text()).toContain('event_receiver_failing');
      expect(h2.logs.text()).not.toContain(WA.slice(-7));
    } finally {
      await h2.close();
      await alerts.stop();
    }
  });

  it('admins see the delivery log in the console, without bodies or people; others do not', async () => {
    crm.down = true;
    await h.say(WA, 'STOP');
    const admin = await staffAgent('admin');
    const res = await admin.get('/staff/api/event-deliveries').expect(200);
    expect(res.body.receivers).toEqual([
      { id: expect.any(String), host: new URL(crm.url).host, includesNumber: true },
      { id: expect.any(String), host: new URL(mail.url).host, includesNumber: false },
    ]);
    const byHost = Object.fromEntries(res.body.deliveries.map((d: { host: string }) => [d.host, d]));
    expect(byHost[new URL(mail.url).host]).toMatchObject({ type: 'consent.withdrawn', state: 'delivered', lastStatus: '200' });
    expect(byHost[new URL(crm.url).host]).toMatchObject({ type: 'consent.withdrawn', state: 'pending', lastStatus: '503' });
    expect(JSON.stringify(res.body)).not.toContain(WA.slice(-7));
    const agent = await staffAgent('agent');
    await agent.get('/staff/api/event-deliveries').expect(403);
  });
});

/** A signed-in staff member of this role (the console's own sign-in). */
async function staffAgent(role: 'admin' | 'agent') {
  const who = { email: `${role}@acme.test`, name: `${role} person`, role, password: 'correct horse battery staple 42' };
  expect((await createStaff(h.deps, null, who)).kind).toBe('created');
  const agent = request.agent(h.app);
  await agent.post('/staff/api/login').send({ email: who.email, password: who.password }).expect(200);
  return agent;
}
