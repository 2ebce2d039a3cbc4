import request from 'supertest';
import { sourceRefIn } from '../../src/chat/handleMessage';
import { createStaff } from '../../src/staff/accounts';
import { createChatHarness, type ChatHarness } from '../support/chat';
import { TEST_API_TOKEN } from '../support/harness';

/**
 * Opt-in with its source: an admin makes a link (and its QR code) per place opt-ins are collected;
 * a START sent through it records that place as the consent's source, shown in the person's
 * consent history and listed by the integration API.
 */
let h: ChatHarness;
beforeAll(async () => {
  h = await createChatHarness('optinlinks', { env: { WHATSAPP_DISPLAY_NUMBER: '+15550009999', INTEGRATION_API_TOKENS: TEST_API_TOKEN } });
});
afterAll(() => h.close());

async function admin() {
  const who = { email: 'links.admin@acme.test', name: 'Links Admin', role: 'admin', password: 'correct horse battery staple 42' };
  await createStaff(h.deps, null, who);
  const agent = request.agent(h.app);
  const login = await agent.post('/staff/api/login').send({ email: who.email, password: who.password }).expect(200);
  return { agent, csrf: login.body.csrf as string };
}

describe('opt-in links', () => {
  it('a START through a link records the link as its source, in the history, the console and the API', async () => {
    const { agent, csrf } = await admin();
    const created = await agent
      .post('/staff/api/opt-in-links')
      .set('x-csrf-token', csrf)
      .send({ name: 'Receipt QR', purpose: 'Offers on WhatsApp' })
      .expect(201);
    const link = created.body.link;
    expect(link.code).toMatch(/^[a-z2-9]{8}$/);
    expect(link.message).toBe(`START #${link.code}`);
    expect(link.link).toBe(`https://wa.me/15550009999?text=START%20%23${link.code}`);
    expect(link.qrSvg).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const listed = await agent.get('/staff/api/opt-in-links').expect(200);
    expect(listed.body.links.map((l: { code: string }) => l.code)).toContain(link.code);

    // The person scans it and sends the prefilled message as it is.
    const replies = await h.say('15550090001', link.message);
    expect(replies).toHaveLength(1);
    const s = (await h.deps.stores.subscribers.find({ waId: '15550090001' }))!;
    expect(s.consent).toBe('opted_in');
    const history = await h.deps.stores.consents.historyOf(s._id);
    expect(history).toEqual([expect.objectContaining({ action: 'grant', source: 'link', sourceRef: link.code })]);
    // The conversation shows what the person wrote, as they wrote it.
    const lines = await h.deps.stores.conversation.linesOf(s._id);
    expect(lines[0]).toMatchObject({ direction: 'in', text: link.message, intent: 'opt_in' });

    // Staff see the link's name in the person's consent history.
    const conv = await agent.get(`/staff/api/conversations/${String(s._id)}`).expect(200);
    expect(conv.body.consentHistory).toEqual([expect.objectContaining({ source: 'link', link: { code: link.code, name: 'Receipt QR' } })]);

    // The integration API lists the consents it brought.
    const api = await request(h.app).get(`/api/v1/consents?source=${link.code}`).set('authorization', `Bearer ${TEST_API_TOKEN}`).expect(200);
    expect(api.body).toEqual({
      source: { code: link.code, name: 'Receipt QR', purpose: 'Offers on WhatsApp' },
      consents: [{ to: '+15550090001', grantedAt: expect.any(String), marketing: true }],
    });
    await request(h.app).get('/api/v1/consents?source=zzzzzzzz').set('authorization', `Bearer ${TEST_API_TOKEN}`).expect(404);
    await request(h.app).get(`/api/v1/consents?source=${link.code}`).expect(401);
  });

  it('reads any other hashtag as written: an unknown code, or a known one after anything but an opt-in', async () => {
    const { agent, csrf } = await admin();
    const { code } = (await agent.post('/staff/api/opt-in-links').set('x-csrf-token', csrf).send({ name: 'Poster', purpose: 'Offers' }).expect(201)).body.link;
    // Not a link's code: the message is read as written, hashtag and all (no opt-in from an order number).
    await h.say('15550090002', 'START #abcdefgh');
    // A link's code, but what is left is not an opt-in: read as written too (no export, no opt-out).
    const data = await h.say('15550090004', `MY DATA #${code}`);
    await h.say('15550090005', `STOP #${code}`);
    // A plain START is a START, and the link's START with trailing punctuation is the link's.
    await h.say('15550090003', 'start');
    await h.say('15550090006', `START #${code}!`);
    const history = async (waId: string) => {
      const s = await h.deps.stores.subscribers.find({ waId });
      return s ? h.deps.stores.consents.historyOf(s._id) : [];
    };
    expect((await h.deps.stores.subscribers.find({ waId: '15550090002' }))?.consent).not.toBe('opted_in');
    expect(data.some((r) => r.type === 'document')).toBe(false);
    expect(await h.deps.models.Request.countDocuments({ type: 'access' })).toBe(0);
    expect((await h.deps.stores.subscribers.find({ waId: '15550090005' }))?.consent).not.toBe('opted_out');
    expect(await history('15550090003')).toEqual([expect.objectContaining({ source: 'keyword', sourceRef: null })]);
    expect(await history('15550090006')).toEqual([expect.objectContaining({ source: 'link', sourceRef: code })]);
  });

  it.each<[string, string | undefined, { code: string; rest: string } | null]>([
    ['the prefilled message', 'START #k3f9q2xa', { code: 'k3f9q2xa', rest: 'START' }],
    ['with words around it', 'please START #K3F9Q2XA thanks', { code: 'k3f9q2xa', rest: 'please START thanks' }],
    ['with punctuation after it', 'START #k3f9q2xa!', { code: 'k3f9q2xa', rest: 'START' }],
    ['a hashtag of another length', 'START #sale', null],
    ['a code glued to a word', 'START#k3f9q2xa', null],
    ['no text', undefined, null],
  ])('reads the code in %s', (_what, text, expected) => {
    expect(sourceRefIn(text)).toEqual(expected);
  });

  it('agents can neither make nor list links', async () => {
    const who = { email: 'links.agent@acme.test', name: 'Agent', role: 'agent', password: 'correct horse battery staple 42' };
    await createStaff(h.deps, null, who);
    const agent = request.agent(h.app);
    const login = await agent.post('/staff/api/login').send({ email: who.email, password: who.password }).expect(200);
    await agent.post('/staff/api/opt-in-links').set('x-csrf-token', login.body.csrf).send({ name: 'x', purpose: 'y' }).expect(403);
    await agent.get('/staff/api/opt-in-links').expect(403);
  });
});
