import request from 'supertest';
import { expireUnconfirmedErasures } from '../../src/rights/erasure';
import { createStaff } from '../../src/staff/accounts';
import { bodyText, createChatHarness, type ChatHarness } from '../support/chat';
import { TestClock } from '../support/harness';

/**
 * The queue staff work from and the life of a request: a DELETE never confirmed closes as expired
 * (not open, not overdue); agents close requests with a reason; an admin erases on a documented
 * request made elsewhere; free text marks a conversation "needs a human" until staff answer or
 * dismiss it; the list filters and searches; the requests page says whose each request is.
 */
const PASSWORD = 'correct horse battery staple';
const MINUTE = 60_000;
const DAY = 86_400_000;
let h: ChatHarness;

beforeAll(async () => {
  h = await createChatHarness('triage', { clock: new TestClock(new Date('2026-11-02T09:00:00Z')) });
  for (const role of ['viewer', 'agent', 'admin'])
    await createStaff(h.deps, null, { email: `${role}@triage.test`, name: `${role} person`, role, password: PASSWORD });
});
afterAll(() => h.close());

async function loginAs(role: string) {
  const agent = request.agent(h.app);
  const r = await agent
    .post('/staff/api/login')
    .send({ email: `${role}@triage.test`, password: PASSWORD })
    .expect(200);
  const csrf = r.body.csrf as string;
  return {
    get: (url: string) => agent.get(url),
    post: (url: string, body: object = {}) => agent.post(url).set('x-csrf-token', csrf).send(body),
  };
}
const personOf = (waId: string) => h.deps.stores.subscribers.find({ waId });
const requestsOf = async (waId: string) => h.deps.stores.requests.ofPerson(h.deps.stores.subscribers.tokenOf({ waId }));

describe('an erasure never confirmed', () => {
  it('closes as expired once its question lapses: kept in the ledger, neither open nor overdue, and a late "Yes" erases nothing', async () => {
    const waId = '15550090001';
    await h.say(waId, 'DELETE', { name: 'Ursula Unsure' });
    expect((await requestsOf(waId)).map((r) => r.state)).toEqual(['open']);

    // Still within its 15 minutes (and the minute of slack): left alone.
    h.clock.advance(15 * MINUTE);
    expect(await expireUnconfirmedErasures(h.deps.rights)).toBe(0);
    h.clock.advance(2 * MINUTE);
    expect(await expireUnconfirmedErasures(h.deps.rights)).toBe(1);
    const [q] = await requestsOf(waId);
    expect(q).toMatchObject({ state: 'expired', outcome: 'not confirmed within 15 minutes' });
    expect((await personOf(waId))?.pending ?? null).toBeNull();
    expect(await h.deps.models.Ledger.countDocuments({ requestId: q._id, event: 'erasure.expired' })).toBe(1);
    // Run again (another replica): nothing more.
    expect(await expireUnconfirmedErasures(h.deps.rights)).toBe(0);
    expect(await h.deps.models.Ledger.countDocuments({ requestId: q._id, event: 'erasure.expired' })).toBe(1);

    // The button pressed after all: nothing is waiting, nothing is erased.
    const late = await h.press(waId, 'erase.yes');
    expect(late.map(bodyText)).toEqual([h.t('en', 'erase.nothingPending')]);
    expect(await personOf(waId)).not.toBeNull();

    // Forty days on it is not overdue: the due-date clocks count open requests only.
    h.clock.advance(40 * DAY);
    const s = await loginAs('viewer');
    const overdue = await s.get('/staff/api/requests?overdue=1').expect(200);
    expect(overdue.body.requests.map((r: { id: string }) => r.id)).not.toContain(q._id);
  });

  it('a DELETE confirmed in time is the erasure job’s to close, never expired', async () => {
    const waId = '15550090002';
    await h.say(waId, 'DELETE');
    const [q] = await requestsOf(waId);
    h.clock.advance(14 * MINUTE);
    await h.press(waId, 'erase.yes');
    h.clock.advance(20 * MINUTE);
    expect(await expireUnconfirmedErasures(h.deps.rights)).toBe(0);
    expect(await h.deps.stores.requests.get(q._id)).toMatchObject({ state: 'done', outcome: 'erased' });
  });
});

describe('a confirmation and a close racing each other have one winner', () => {
  it('a "Yes" that claimed the request first keeps it from staff, and from the sweep, which finishes that erasure', async () => {
    const waId = '15550090011';
    await h.say(waId, 'DELETE');
    const [q] = await requestsOf(waId);
    const id = String((await personOf(waId))!._id);
    // A turn that took the "Yes" and died before starting the erasure job.
    expect(await h.deps.stores.requests.claimConfirmation(q._id, h.clock.now())).toBe(true);
    const agent = await loginAs('agent');
    const refused = await agent.post(`/staff/api/requests/${encodeURIComponent(q._id)}/close`, { reason: 'duplicate' }).expect(409);
    expect(refused.body.error).toMatch(/erasure is under way/);
    // Nor may an admin start a second erasure of the same person (two confirmations, two references).
    const admin = await loginAs('admin');
    await admin.post(`/staff/api/conversations/${id}/erase`, { note: 'email of 30 November' }).expect(409);
    expect(await h.deps.models.StaffAudit.countDocuments({ action: 'erase', subscriberToken: q.subscriberToken })).toBe(0);
    // The sweep does not expire it: it carries out the erasure the person confirmed in time.
    h.clock.advance(20 * MINUTE);
    h.newReplies(waId);
    expect(await expireUnconfirmedErasures(h.deps.rights)).toBe(0);
    await h.workers.drain();
    expect(await personOf(waId)).toBeNull();
    expect(await h.deps.stores.requests.get(q._id)).toMatchObject({ state: 'done', outcome: 'erased' });
    expect(await h.deps.models.Ledger.countDocuments({ requestId: q._id, event: { $in: ['erasure.expired', 'erasure.cancelled'] } })).toBe(0);
    expect(await h.deps.models.ErasureJob.countDocuments({ subscriberId: id })).toBe(1);
    expect(h.newReplies(waId).map(bodyText)).toEqual([expect.stringMatching(/^Your data has been erased\. Reference: /)]);
  });

  it('a close that came first stops a "Yes" read from a stale profile: nothing is erased', async () => {
    const waId = '15550090012';
    await h.say(waId, 'DELETE');
    const [q] = await requestsOf(waId);
    const pending = (await personOf(waId))!.pending!;
    const agent = await loginAs('agent');
    await agent.post(`/staff/api/requests/${encodeURIComponent(q._id)}/close`, { reason: 'withdrawn_by_person' }).expect(200);
    // The turn had read the question before the close cleared it.
    await h.deps.stores.subscribers.ask((await personOf(waId))!._id, pending as never);
    const replies = await h.press(waId, 'erase.yes');
    expect(replies.map(bodyText)).toEqual([h.t('en', 'erase.expired')]);
    expect(await personOf(waId)).not.toBeNull();
    const after = await h.deps.stores.requests.get(q._id);
    expect([after?.state, after?.confirmedAt ?? null]).toEqual(['cancelled', null]);
    expect(await h.deps.models.Ledger.countDocuments({ requestId: q._id, event: 'erasure.confirmed' })).toBe(0);
  });
});

describe('an erasure an older version started without claiming its request', () => {
  it('is not cancelled by a new DELETE, a "No" or staff: its job closes it', async () => {
    const waId = '15550090014';
    await h.say(waId, 'DELETE');
    const [first] = await requestsOf(waId);
    const s = (await personOf(waId))!;
    // What the version before claims did on "Yes": the job, and no claim on the request.
    await h.deps.stores.erasureJobs.start({
      id: first._id,
      subscriberId: s._id,
      subscriberToken: s.key,
      to: h.deps.stores.subscribers.recipientOf(s),
      phoneNumberId: h.deps.config.whatsapp.phoneNumberIds[0],
      locale: 'en',
      now: h.clock.now(),
    });
    await h.say(waId, 'DELETE'); // a second question supersedes the first…
    expect(await h.deps.stores.requests.get(first._id)).toMatchObject({ state: 'open' }); // …but not its running erasure
    await h.press(waId, 'erase.no');
    const agent = await loginAs('agent');
    await agent.post(`/staff/api/requests/${encodeURIComponent(first._id)}/close`, { reason: 'duplicate' }).expect(409);
    expect(await h.deps.stores.requests.get(first._id)).toMatchObject({ state: 'open' });
    expect(await h.deps.models.Ledger.countDocuments({ requestId: first._id, event: 'erasure.cancelled' })).toBe(0);
  });
});

describe('staff close a request with a reason', () => {
  it('an agent closes an open request; the reason is in the ledger and the audit log, a second close is refused', async () => {
    const waId = '15550090003';
    await h.say(waId, 'DELETE', { name: 'Carla Closed' });
    const [q] = await requestsOf(waId);
    const agent = await loginAs('agent');
    await agent.post(`/staff/api/requests/${encodeURIComponent(q._id)}/close`, { reason: 'because' }).expect(400);
    const closed = await agent
      .post(`/staff/api/requests/${encodeURIComponent(q._id)}/close`, { reason: 'fulfilled_elsewhere', note: 'answered by email' })
      .expect(200);
    expect(closed.body).toEqual({ state: 'done' });
    expect(await h.deps.stores.requests.get(q._id)).toMatchObject({ state: 'done', outcome: 'closed by staff: fulfilled elsewhere' });
    expect(await h.deps.models.Ledger.countDocuments({ requestId: q._id, event: 'erasure.done', detail: 'closed by staff: fulfilled elsewhere' })).toBe(1);
    expect(await h.deps.models.StaffAudit.countDocuments({ action: 'close_request', detail: 'fulfilled_elsewhere' })).toBe(1);
    // The question it asked is no longer waiting.
    expect((await personOf(waId))?.pending ?? null).toBeNull();
    const again = await agent.post(`/staff/api/requests/${encodeURIComponent(q._id)}/close`, { reason: 'duplicate' }).expect(409);
    expect(again.body.error).toBe('the request is already done');
    const viewer = await loginAs('viewer');
    await viewer.post(`/staff/api/requests/${encodeURIComponent(q._id)}/close`, { reason: 'duplicate' }).expect(403);
  });
});

describe('an admin erases on a documented request made elsewhere', () => {
  it('erases the person like the chat does, records the request as received through staff, tells the person, and audits it', async () => {
    const waId = '15550090004';
    await h.say(waId, 'hello', { name: 'Erik Emailed' });
    await h.say(waId, 'DELETE'); // a question left waiting: settled by the erasure
    const id = String((await personOf(waId))!._id);
    const agent = await loginAs('agent');
    await agent.post(`/staff/api/conversations/${id}/erase`, { note: 'email of 30 November' }).expect(403);
    const admin = await loginAs('admin');
    const short = await admin.post(`/staff/api/conversations/${id}/erase`, { note: 'x' }).expect(409);
    expect(short.body.error).toMatch(/where the request was made/);
    expect(await personOf(waId)).not.toBeNull();

    h.newReplies(waId);
    const r = await admin.post(`/staff/api/conversations/${id}/erase`, { note: 'email of 30 November, ticket 4411' }).expect(200);
    await h.workers.drain();
    expect(await personOf(waId)).toBeNull();
    const requests = await requestsOf(waId);
    expect(requests.find((q) => q._id === r.body.requestId)).toMatchObject({ type: 'erasure', channel: 'staff', state: 'done', outcome: 'erased' });
    // The DELETE the person left unanswered is cancelled, not left open.
    expect(requests.filter((q) => q.state === 'open')).toEqual([]);
    expect(h.newReplies(waId).map(bodyText)).toEqual([expect.stringMatching(/^Your data has been erased. Reference: \S+\./)]);
    expect(await h.deps.models.StaffAudit.countDocuments({ action: 'erase', detail: 'documented_request' })).toBe(1);
    await admin.get(`/staff/api/conversations/${id}`).expect(404);
  });

  it('a double submit erases once: one request, one job, one message to the person', async () => {
    const waId = '15550090013';
    await h.say(waId, 'hello', { name: 'Dora Double' });
    const id = String((await personOf(waId))!._id);
    const admin = await loginAs('admin');
    h.newReplies(waId);
    const answers = await Promise.all([1, 2].map(() => admin.post(`/staff/api/conversations/${id}/erase`, { note: 'letter of 28 November' })));
    expect(answers.map((a) => a.status).sort()).toEqual(expect.arrayContaining([200]));
    for (const a of answers) expect([200, 404]).toContain(a.status);
    await h.workers.drain();
    expect(await personOf(waId)).toBeNull();
    expect((await requestsOf(waId)).filter((q) => q.channel === 'staff')).toHaveLength(1);
    expect(await h.deps.models.ErasureJob.countDocuments({ subscriberId: id })).toBe(1);
    expect(h.newReplies(waId)).toHaveLength(1);
  });
});

describe('needs a human', () => {
  it('free text marks the conversation until a staff reply; again until dismissed; keywords do not', async () => {
    const waId = '15550090005';
    await h.say(waId, 'my parcel arrived damaged, can someone call me?', { name: 'Nadia Needs' });
    await h.say('15550090006', 'STOP', { name: 'Kenji Keyword' });
    const agent = await loginAs('agent');
    const flagged = async () => (await agent.get('/staff/api/conversations?needsHuman=1').expect(200)).body.conversations.map((c: { name: string }) => c.name);
    expect(await flagged()).toEqual(['Nadia Needs']);
    const id = String((await personOf(waId))!._id);
    expect((await agent.get(`/staff/api/conversations/${id}`).expect(200)).body.needsHumanAt).toBe(h.clock.now().toISOString());

    await agent.post(`/staff/api/conversations/${id}/reply`, { text: 'Sorry to hear that, we will call you today.' }).expect(200);
    expect(await flagged()).toEqual([]);
    expect((await personOf(waId))?.needsHumanAt ?? null).toBeNull();

    await h.say(waId, 'thanks, what time?', { name: 'Nadia Needs' });
    expect(await flagged()).toEqual(['Nadia Needs']);
    const viewer = await loginAs('viewer');
    await viewer.post(`/staff/api/conversations/${id}/dismiss`).expect(403);
    // A dismissal covers what staff saw: a message that came after keeps the mark.
    const seen = (await agent.get(`/staff/api/conversations/${id}`).expect(200)).body.needsHumanAt;
    h.clock.advance(MINUTE);
    await h.say(waId, 'hello? anyone?', { name: 'Nadia Needs' });
    const stale = await agent.post(`/staff/api/conversations/${id}/dismiss`, { seen }).expect(409);
    expect(stale.body.error).toMatch(/wrote again/);
    expect(await flagged()).toEqual(['Nadia Needs']);
    const latest = (await agent.get(`/staff/api/conversations/${id}`).expect(200)).body.needsHumanAt;
    await agent.post(`/staff/api/conversations/${id}/dismiss`, { seen: latest }).expect(200);
    expect(await flagged()).toEqual([]);
    expect(await h.deps.models.StaffAudit.countDocuments({ action: 'dismiss' })).toBe(1);
  });
});

describe('the conversation list', () => {
  it('filters by consent and open requests, and searches names in any case and accents', async () => {
    await h.say('15550090007', 'STOP', { name: 'José Álvarez' });
    await h.say('15550090008', 'DELETE', { name: 'Jose Other' });
    const s = await loginAs('viewer');
    const names = async (query: string) =>
      (await s.get(`/staff/api/conversations?${query}`).expect(200)).body.conversations.map((c: { name: string }) => c.name).sort();
    expect(await names('q=jose')).toEqual(['Jose Other', 'José Álvarez']);
    expect(await names('q=%C3%81LVAREZ')).toEqual(['José Álvarez']);
    expect(await names('q=jose&consent=opted_out')).toEqual(['José Álvarez']);
    expect(await names('q=jose&openRequests=1')).toEqual(['Jose Other']);
    await s.get('/staff/api/conversations?consent=maybe').expect(400);
  });
});

describe('the requests page', () => {
  it('says whose each request is (name and masked number), soonest due first, and nothing of a person once erased', async () => {
    const s = await loginAs('viewer');
    const { requests } = (await s.get('/staff/api/requests?state=open').expect(200)).body;
    expect(requests.length).toBeGreaterThan(0);
    const dues = requests.map((r: { dueAt: string }) => r.dueAt);
    expect(dues).toEqual([...dues].sort());
    const other = requests.find((r: { person: { name: string } | null }) => r.person?.name === 'Jose Other');
    expect(other.person).toEqual({ name: 'Jose Other', number: '+1•••••0008' });
    expect(JSON.stringify(requests)).not.toContain('15550090008');
    const all = (await s.get('/staff/api/requests').expect(200)).body.requests;
    const erased = all.find((r: { channel: string; type: string }) => r.channel === 'staff' && r.type === 'erasure');
    expect(erased).toMatchObject({ person: null, conversationId: null });
  });
});
