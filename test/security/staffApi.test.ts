import request from 'supertest';
import { createStaff } from '../../src/staff/accounts';
import { at } from '../../src/privacy/pii';
import { createChatHarness, type ChatHarness } from '../support/chat';
import { createHarness } from '../support/harness';

let h: ChatHarness;
const PASSWORD = 'correct horse battery staple';
const WA = '15550002222';
let conversationId: string;
let matrixId: string; // a second person, for the actions whose effect later tests must not see
let erasableId: string; // a third, erased by the admin's row of the matrix

beforeAll(async () => {
  h = await createChatHarness('staffapi');
  for (const role of ['viewer', 'agent', 'admin']) await createStaff(h.deps, null, { email: `${role}@acme.test`, name: role, role, password: PASSWORD });
  await h.say(WA, 'can you stop sending me offers?', { name: 'Dana Example' });
  conversationId = String((await h.deps.models.Subscriber.findOne({}).lean())!._id);
  await h.say('15550002299', 'hello', { name: 'Matrix Person' });
  matrixId = String((await h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex('wa:15550002299') }).lean())!._id);
  await h.say('15550002288', 'hello', { name: 'Erin Erasable' });
  erasableId = String((await h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex('wa:15550002288') }).lean())!._id);
});
afterAll(() => h.close());

interface Session {
  agent: ReturnType<typeof request.agent>;
  csrf: string;
}
async function loginAs(role: string): Promise<Session> {
  const agent = request.agent(h.app);
  const r = await agent
    .post('/staff/api/login')
    .send({ email: `${role}@acme.test`, password: PASSWORD })
    .expect(200);
  expect(r.headers['set-cookie'][0]).toMatch(/staff_session=.+; .*HttpOnly.*SameSite=Strict/i);
  return { agent, csrf: r.body.csrf };
}

// Every row has four cells: jest hands a `done` callback to a test function with more parameters than cells.
type Call = [string, 'get' | 'post' | 'patch', () => string, Record<string, unknown> | undefined];
const CALLS: Call[] = [
  ['list conversations', 'get', () => '/staff/api/conversations', undefined],
  ['read a conversation', 'get', () => `/staff/api/conversations/${conversationId}`, undefined],
  ['list requests', 'get', () => '/staff/api/requests?overdue=1', undefined],
  ['reply', 'post', () => `/staff/api/conversations/${conversationId}/reply`, { text: 'Hello from support' }],
  ['reveal', 'post', () => `/staff/api/conversations/${conversationId}/reveal`, { reason: 'customer asked for a call back' }],
  ['pause', 'post', () => `/staff/api/conversations/${conversationId}/pause`, undefined],
  ['resume', 'post', () => `/staff/api/conversations/${conversationId}/resume`, undefined],
  ['export', 'post', () => `/staff/api/conversations/${conversationId}/export`, { reason: 'person_request' }],
  ['record an opt-out', 'post', () => `/staff/api/conversations/${matrixId}/opt-out`, {}],
  ['dismiss needs-a-human', 'post', () => `/staff/api/conversations/${matrixId}/dismiss`, undefined],
  ['close a request', 'post', () => '/staff/api/requests/no-such-request/close', { reason: 'duplicate' }],
  ['erase on a documented request', 'post', () => `/staff/api/conversations/${erasableId}/erase`, { note: 'email of 30 November, ticket 4411' }],
  ['change staff', 'patch', () => '/staff/api/staff/nobody%40acme.test', { role: 'viewer' }],
  ['read the audit log', 'get', () => '/staff/api/audit', undefined],
  ['verify the chains', 'post', () => '/staff/api/audit/verify', undefined],
  ['list staff', 'get', () => '/staff/api/staff', undefined],
  [
    'create staff',
    'post',
    () => '/staff/api/staff',
    { email: `new${Math.random().toString(36).slice(2)}@acme.test`, name: 'New', role: 'viewer', password: PASSWORD },
  ],
];
const ALLOWED: Record<string, string[]> = {
  viewer: ['list conversations', 'read a conversation', 'list requests'],
  agent: [
    'list conversations',
    'read a conversation',
    'list requests',
    'reply',
    'reveal',
    'pause',
    'resume',
    'export',
    'record an opt-out',
    'dismiss needs-a-human',
    'close a request',
  ],
  admin: CALLS.map((c) => c[0]),
};

describe.each(['viewer', 'agent', 'admin'])('as %s', (role) => {
  let s: Session;
  beforeAll(async () => {
    s = await loginAs(role);
  });
  it.each(CALLS)('%s → allowed exactly when the role grants it (403 otherwise)', async (name, method, url, body) => {
    const req = s.agent[method](url()).set('x-csrf-token', s.csrf);
    const r = body ? await req.send(body) : await req;
    const allowed = ALLOWED[role].includes(name);
    // No such staff member to change, no such request to close.
    const okStatus = name === 'create staff' ? 201 : name === 'change staff' || name === 'close a request' ? 404 : 200;
    expect([r.status, name]).toEqual([allowed ? okStatus : 403, name]);
  });
});

it.each(CALLS)('%s without a session answers 401', async (_name, method, url, body) => {
  const req = request(h.app)[method](url());
  await (body ? req.send(body) : req).expect(401);
});

it.each(CALLS.filter((c) => c[1] !== 'get'))('%s without the CSRF token answers 403 and changes nothing', async (_name, method, url, body) => {
  const s = await loginAs('admin');
  const before = await h.deps.models.StaffAudit.countDocuments();
  await s.agent[method](url())
    .send(body ?? {})
    .expect(403);
  await s.agent[method](url())
    .set('x-csrf-token', 'forged')
    .send(body ?? { probe: 1 })
    .expect(403);
  expect(await h.deps.models.StaffAudit.countDocuments()).toBe(before);
});

describe('numbers', () => {
  it('appear masked everywhere until an agent reveals one with a reason, and each reveal is audited without the number', async () => {
    const s = await loginAs('agent');
    const list = await s.agent.get('/staff/api/conversations').expect(200);
    const detail = await s.agent.get(`/staff/api/conversations/${conversationId}`).expect(200);
    expect(list.body.conversations.find((c: { id: string }) => c.id === conversationId).number).toBe('+1•••••2222');
    for (const text of [list.text, detail.text]) expect(text).not.toContain(WA);
    expect(detail.body.name).toBe('Dana Example');

    const revealWith = (body: Record<string, unknown>) =>
      s.agent.post(`/staff/api/conversations/${conversationId}/reveal`).set('x-csrf-token', s.csrf).send(body);
    const before = await h.deps.models.StaffAudit.countDocuments({ action: 'reveal' });
    // No reason, a reason in words too short to say anything, or "other" without a note: refused, not audited.
    for (const body of [{ reason: '' }, { reason: 'why' }, { reason: 'other' }, { reason: 'other', note: ' ok ' }]) {
      const refused = await revealWith(body).expect(409);
      expect(refused.body.number).toBeUndefined();
    }
    expect(await h.deps.models.StaffAudit.countDocuments({ action: 'reveal' })).toBe(before);

    // A reason code: audited as that code, with no note.
    const byCode = await revealWith({ reason: 'delivery_problem' }).expect(200);
    expect(byCode.body.number).toBe(`+${WA}`);
    // A reason in words: audited as "other", the words kept as a sealed note outside the chain.
    const byWords = await revealWith({ reason: 'call back requested' }).expect(200);
    expect(byWords.body.number).toBe(`+${WA}`);
    // A code with a note.
    await revealWith({ reason: 'legal_obligation', note: 'court order 2026/77' }).expect(200);

    const entries = await h.deps.models.StaffAudit.find({ action: 'reveal' }).sort({ seq: 1 }).lean();
    expect(entries).toHaveLength(before + 3);
    const [code, words, withNote] = entries.slice(-3);
    const token = h.deps.pii.blindIndex(`wa:${WA}`);
    expect(code).toMatchObject({ detail: 'delivery_problem', subscriberToken: token });
    expect(code.noteEnc ?? null).toBeNull();
    expect(words).toMatchObject({ detail: 'other', noteEnc: expect.stringMatching(/^e2\./), subscriberToken: token });
    expect(h.deps.pii.decrypt(words.noteEnc!, at('staffAudit', 'noteEnc', words._id))).toBe('call back requested');
    expect(withNote).toMatchObject({ detail: 'legal_obligation', noteEnc: expect.stringMatching(/^e2\./), subscriberToken: token });
    expect(h.deps.pii.decrypt(withNote.noteEnc!, at('staffAudit', 'noteEnc', withNote._id))).toBe('court order 2026/77');

    // Stored: neither the number nor the free text in the clear.
    const audit = JSON.stringify(await h.deps.models.StaffAudit.find({}).lean());
    expect(audit).not.toContain(WA);
    expect(audit).not.toContain('call back requested');
    expect(audit).not.toContain('court order');

    // The audit log API shows the code and the note (and never the number).
    const admin = await loginAs('admin');
    const log = await admin.agent.get('/staff/api/audit').expect(200);
    expect(log.text).not.toContain(WA);
    const reveals = log.body.entries
      .filter((e: { action: string }) => e.action === 'reveal')
      .slice(0, 3)
      .reverse();
    expect(reveals.map((e: { detail: string; note: string | null }) => [e.detail, e.note])).toEqual([
      ['delivery_problem', null],
      ['other', 'call back requested'],
      ['legal_obligation', 'court order 2026/77'],
    ]);
  });
});

describe('staff actions use the same use cases as the chat', () => {
  it('a staff opt-out is the same opt-out, recorded with its source, confirmed once, and audited', async () => {
    const s = await loginAs('agent');
    await h.workers.drain(); // what earlier tests queued
    h.newReplies(WA);
    const r = await s.agent.post(`/staff/api/conversations/${conversationId}/opt-out`).set('x-csrf-token', s.csrf).expect(200);
    expect(r.body.outcome).toBe('opted_out');
    await h.workers.drain();
    expect(h.newReplies(WA).map((b) => b.text?.body)).toEqual([h.t('en', 'optOut.confirmed')]);
    const sub = await h.deps.models.Subscriber.findById(conversationId).lean();
    expect(sub!.consent).toBe('opted_out');
    expect(await h.deps.models.Consent.findOne({ subscriberId: sub!._id, action: 'withdraw' }).lean()).toMatchObject({ source: 'staff' });
    expect(await h.deps.models.StaffAudit.findOne({ action: 'opt_out' }).lean()).toBeTruthy();
  });

  it('a reply reaches the Graph API inside the 24-hour window and is refused outside it', async () => {
    const s = await loginAs('agent');
    await h.workers.drain();
    h.newReplies(WA);
    await s.agent.post(`/staff/api/conversations/${conversationId}/reply`).set('x-csrf-token', s.csrf).send({ text: 'We are on it' }).expect(200);
    await h.workers.drain();
    expect(h.newReplies(WA).map((b) => b.text?.body)).toEqual(['We are on it']);
    h.clock.advance(25 * 3600_000);
    // Sessions last 12 hours: the old one is gone; log in again.
    await s.agent.get('/staff/api/me').expect(401);
    const again = await loginAs('agent');
    const refused = await again.agent
      .post(`/staff/api/conversations/${conversationId}/reply`)
      .set('x-csrf-token', again.csrf)
      .send({ text: 'late' })
      .expect(409);
    expect(refused.body.error).toMatch(/24-hour window/);
    h.clock.advance(-25 * 3600_000);
  });

  it('a paused conversation gets no automatic hint, but rights still work', async () => {
    const s = await loginAs('agent');
    await s.agent.post(`/staff/api/conversations/${conversationId}/pause`).set('x-csrf-token', s.csrf).expect(200);
    h.clock.advance(25 * 3600_000);
    expect(await h.say(WA, 'hello?')).toEqual([]);
    expect((await h.say(WA, 'START')).map((b) => b.text?.body)).toEqual([h.t('en', 'optIn.confirmed')]);
    const again = await loginAs('agent');
    await again.agent.post(`/staff/api/conversations/${conversationId}/resume`).set('x-csrf-token', again.csrf).expect(200);
  });
});

describe('session cookies', () => {
  it('are httpOnly, SameSite=Strict, scoped to /staff, and Secure in production', async () => {
    const r = await request(h.app).post('/staff/api/login').send({ email: 'viewer@acme.test', password: PASSWORD }).expect(200);
    const cookie = String(r.headers['set-cookie'][0]);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/staff/);
    expect(cookie).not.toMatch(/Secure/);
    const prod = await createHarness('staffapiprod', { env: { NODE_ENV: 'production', METRICS_TOKEN: 'metrics-token-for-tests' } });
    try {
      await createStaff(prod.deps, null, { email: 'viewer@acme.test', name: 'v', role: 'viewer', password: PASSWORD });
      const p = await request(prod.app).post('/staff/api/login').send({ email: 'viewer@acme.test', password: PASSWORD }).expect(200);
      expect(String(p.headers['set-cookie'][0])).toMatch(/; Secure/);
    } finally {
      await prod.close();
    }
  });
});

describe('login', () => {
  it('locks an account after 5 wrong passwords, and the right one does not get in while locked', async () => {
    await createStaff(h.deps, null, { email: 'target@acme.test', name: 't', role: 'viewer', password: PASSWORD });
    for (let i = 0; i < 4; i++) await request(h.app).post('/staff/api/login').send({ email: 'target@acme.test', password: 'wrong' }).expect(401);
    // Locked answers like wrong: the lock itself is not revealed (test/security/login.test.ts).
    await request(h.app).post('/staff/api/login').send({ email: 'target@acme.test', password: 'wrong' }).expect(401);
    await request(h.app).post('/staff/api/login').send({ email: 'target@acme.test', password: PASSWORD }).expect(401);
    h.clock.advance(16 * 60_000);
    await request(h.app).post('/staff/api/login').send({ email: 'target@acme.test', password: PASSWORD }).expect(200);
    const metrics = await request(h.app).get('/metrics');
    expect(metrics.text).toMatch(/security_events_total\{event="staff_login_failed"\} [1-9]/);
    expect(metrics.text).toMatch(/security_events_total\{event="staff_locked_out"\} 1/);
  });

  it('an unknown email gets the same answer as a wrong password', async () => {
    const r = await request(h.app).post('/staff/api/login').send({ email: 'nobody@acme.test', password: 'x' }).expect(401);
    expect(r.body).toEqual({ error: 'wrong email or password' });
  });

  it('logins, failures, reveals, replies, pauses, opt-outs and exports are all in the audit log, whose chain verifies', async () => {
    const actions = new Set((await h.deps.models.StaffAudit.find({}).lean()).map((e) => e.action));
    for (const a of ['login', 'login_failed', 'reveal', 'reply', 'pause', 'resume', 'opt_out', 'export']) expect(actions).toContain(a);
    expect(await h.deps.stores.audit.verify()).toMatchObject({ ok: true });
    const first = await h.deps.models.StaffAudit.findOne({ action: 'export' }).lean();
    await h.db.conn.db!.collection('staffAudit').updateOne({ _id: first!._id as never }, { $set: { action: 'login' } });
    expect(await h.deps.stores.audit.verify()).toMatchObject({ ok: false, firstBroken: { seq: first!.seq, reason: 'content changed' } });
  });

  it('logout ends the session', async () => {
    const s = await loginAs('viewer');
    await s.agent.post('/staff/api/logout').set('x-csrf-token', s.csrf).expect(200);
    await s.agent.get('/staff/api/me').expect(401);
  });
});
