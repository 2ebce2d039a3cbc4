import request from 'supertest';
import { createWorkers, type WorkerSet } from '../../src/workers';
import { createHarness, type Harness } from '../support/harness';

const NO_WHATSAPP = { WHATSAPP_APP_SECRET: undefined, WHATSAPP_VERIFY_TOKEN: undefined, WHATSAPP_ACCESS_TOKEN: undefined, WHATSAPP_PHONE_NUMBER_ID: undefined };

describe('the sandbox chat simulator', () => {
  let h: Harness;
  beforeAll(async () => {
    // No WhatsApp credential at all: sandbox mode, nothing leaves the machine.
    h = await createHarness('sandbox', { env: NO_WHATSAPP });
  });
  afterAll(() => h.close());

  it('serves the page at /sandbox (with security headers) and redirects / to it', async () => {
    const page = await request(h.app).get('/sandbox').expect(200);
    expect(page.text).toContain('Chat simulator');
    expect(page.headers['content-security-policy']).toBeDefined();
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    await request(h.app).get('/').expect(302).expect('location', '/sandbox');
  });

  it('carries out what the person types and shows the reply, buttons included', async () => {
    expect(h.deps.config.sandbox).toBe(true);
    const workers = createWorkers(h.deps);
    await request(h.app).post('/sandbox/api/messages').send({ waId: '15550100001', name: 'Sam', text: 'STOP' }).expect(202);
    await workers.drain();
    let conv = (await request(h.app).get('/sandbox/api/conversation').query({ waId: '15550100001' }).expect(200)).body;
    expect(conv.consent).toBe('opted_out');
    expect(conv.messages.map((m: any) => [m.direction, m.text, m.status])).toEqual([
      ['in', 'STOP', null],
      ['out', h.deps.i18n.t('en', 'optOut.confirmed', { business: 'Acme Test Shop' }), 'sent'],
    ]);

    await request(h.app).post('/sandbox/api/messages').send({ waId: '15550100001', text: 'DELETE' }).expect(202);
    await workers.drain();
    conv = (await request(h.app).get('/sandbox/api/conversation').query({ waId: '15550100001' })).body;
    const question = conv.messages.at(-1);
    // The buttons carry the nonce of the question now waiting (the page sends a button's own id back).
    const [yes, no] = question.body.interactive.action.buttons.map((b: any) => b.reply.id as string);
    expect(yes).toMatch(/^erase\.yes\.[\w-]+$/);
    const qid = yes.slice('erase.yes.'.length);
    expect(no).toBe(`erase.no.${qid}`);
    const waiting = await h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex('wa:15550100001') }).lean();
    expect(waiting!.pending).toMatchObject({ kind: 'erasure', questionId: qid });

    await request(h.app).post('/sandbox/api/messages').send({ waId: '15550100001', buttonId: no, title: 'Cancel' }).expect(202);
    await workers.drain();
    conv = (await request(h.app).get('/sandbox/api/conversation').query({ waId: '15550100001' })).body;
    expect(conv.messages.at(-1).text).toBe(h.deps.i18n.t('en', 'erase.cancelled'));
    await workers.stop();
  });

  it('offers the MY DATA export as a download', async () => {
    const workers = createWorkers(h.deps);
    await request(h.app).post('/sandbox/api/messages').send({ waId: '15550100002', name: 'Dl', text: 'MY DATA' }).expect(202);
    await workers.drain();
    const conv = (await request(h.app).get('/sandbox/api/conversation').query({ waId: '15550100002' })).body;
    const doc = conv.messages.find((m: any) => m.body?.type === 'document' && m.body.document.filename.endsWith('.json.txt'));
    // Downloaded with the sandbox person's own number, as the simulator's link does.
    await request(h.app).get(`/sandbox/exports/${doc.body.exportId}`).expect(404);
    const file = await request(h.app).get(`/sandbox/exports/${doc.body.exportId}`).query({ waId: '15550100002' }).expect(200);
    expect(JSON.parse(file.text)).toMatchObject({ schemaVersion: 1, subject: { whatsappNumber: '+15550100002', profileName: 'Dl' } });
    await workers.stop();
  });

  it('rejects a malformed message with 400', async () => {
    await request(h.app).post('/sandbox/api/messages').send({ waId: 'abc', text: 'x' }).expect(400);
    await request(h.app).post('/sandbox/api/messages').send({ waId: '15550100001' }).expect(400);
  });
});

describe('the sandbox simulator, as a newcomer meets it', () => {
  let h: Harness;
  let workers: WorkerSet;
  beforeAll(async () => {
    h = await createHarness('sandboxnewcomer', { env: NO_WHATSAPP });
    workers = createWorkers(h.deps);
  });
  afterAll(async () => {
    await workers.stop();
    await h.close();
  });
  const conversation = async (query: Record<string, string>) => (await request(h.app).get('/sandbox/api/conversation').query(query).expect(200)).body;

  it('takes a number written with "+", spaces, dashes and brackets as its digits, and refuses anything else', async () => {
    await request(h.app).post('/sandbox/api/messages').send({ waId: '+1 555-010-0030', name: 'Pat', text: 'STOP' }).expect(202);
    await workers.drain();
    expect(await h.deps.stores.subscribers.find({ waId: '15550100030' })).toMatchObject({ origin: 'sandbox', consent: 'opted_out' });
    expect((await conversation({ waId: '+1 (555) 010-0030' })).consent).toBe('opted_out');
    for (const waId of ['555-12ab', '+1 555 010 0030 ext 2', '12345', '+']) {
      const r = await request(h.app).post('/sandbox/api/messages').send({ waId, text: 'hi' }).expect(400);
      expect(r.body.error).toMatch(/country code/);
    }
    expect(await h.deps.models.Subscriber.countDocuments({})).toBe(1);
  });

  it('names a new person only: writing as someone known keeps their name, whatever name is sent', async () => {
    await request(h.app).post('/sandbox/api/messages').send({ waId: '15550100031', name: 'First Name', text: 'HELP' }).expect(202);
    await workers.drain();
    await request(h.app).post('/sandbox/api/messages').send({ waId: '15550100031', name: 'Someone Else', text: 'STATUS' }).expect(202);
    await workers.drain();
    const s = (await h.deps.stores.subscribers.find({ waId: '15550100031' }))!;
    expect(h.deps.stores.subscribers.open(s, 'nameEnc')).toBe('First Name');
    expect((await conversation({ waId: '15550100031' })).name).toBe('First Name');
  });

  it('marks the free text the bot let pass (it hints once a day), not the one it hinted', async () => {
    const waId = '15550100032';
    for (const text of ['hello?', 'anyone there?']) await request(h.app).post('/sandbox/api/messages').send({ waId, text }).expect(202);
    await workers.drain();
    const conv = await conversation({ waId });
    expect(conv.messages.map((m: any) => [m.direction, m.text, m.quiet ?? false])).toEqual([
      ['in', 'hello?', false],
      ['out', h.deps.i18n.t('en', 'hint.unknown'), false],
      ['in', 'anyone there?', true],
    ]);
  });

  it("gives an erased sandbox person's confirmation back, with the reference, only to the page that held their seal", async () => {
    const waId = '15550100033';
    await request(h.app).post('/sandbox/api/messages').send({ waId, text: 'DELETE' }).expect(202);
    await workers.drain();
    const before = await conversation({ waId });
    const yes = before.messages.at(-1).body.interactive.action.buttons[0].reply.id;
    const s = (await h.deps.stores.subscribers.find({ waId }))!;
    await request(h.app).post('/sandbox/api/messages').send({ waId, buttonId: yes, title: 'Yes, erase' }).expect(202);
    await workers.drain();
    expect(await h.deps.stores.subscribers.find({ waId })).toBeNull();
    const erasure = (await h.deps.stores.requests.ofPerson(s.key)).find((r) => r.type === 'erasure')!;
    expect(erasure.state).toBe('done');
    const ref = erasure._id.slice(-10);

    const after = await conversation({ waId, seal: before.seal, locale: 'es' });
    expect(after).toMatchObject({ consent: null, messages: [], erased: { ref, text: h.deps.i18n.t('es', 'erase.done', { ref }) } });
    expect(new Date(after.erased.at).getTime()).toBe(erasure.doneAt!.getTime());
    // An unknown language falls back to the deployment's.
    expect((await conversation({ waId, seal: before.seal, locale: 'xx' })).erased.text).toBe(h.deps.i18n.t('en', 'erase.done', { ref }));
    // Without the seal, or with another number's, the simulator does not say whether (or when) a number was erased.
    expect(await conversation({ waId })).toEqual({ consent: null, locale: null, name: null, messages: [] });
    const other = await conversation({ waId: '15550100031' });
    expect(other.seal).toEqual(expect.any(String));
    expect((await conversation({ waId, seal: other.seal })).erased).toBeUndefined();
    expect((await conversation({ waId, seal: `${before.seal.slice(0, -1)}A` })).erased).toBeUndefined();
  });
});

describe('the sandbox with no business number configured', () => {
  it('answers as the number "sandbox": its own messages are ours, not kept aside', async () => {
    const h = await createHarness('sandboxnonumber', { env: NO_WHATSAPP });
    const workers = createWorkers(h.deps);
    try {
      expect(h.deps.config.whatsapp.phoneNumberIds).toEqual(['sandbox']);
      await request(h.app).post('/sandbox/api/messages').send({ waId: '15550100003', text: 'STOP' }).expect(202);
      await workers.drain();
      const conv = (await request(h.app).get('/sandbox/api/conversation').query({ waId: '15550100003' }).expect(200)).body;
      expect(conv.consent).toBe('opted_out');
      expect(conv.messages.map((m: any) => m.direction)).toEqual(['in', 'out']);
      expect(await h.deps.models.Inbox.countDocuments({ state: 'ignored' })).toBe(0);
      expect(await h.deps.models.Outbox.findOne({}).lean()).toMatchObject({ phoneNumberId: 'sandbox', state: 'sent' });
    } finally {
      await workers.stop();
      await h.close();
    }
  });
});

describe('outside sandbox mode', () => {
  it('has no simulator', async () => {
    const h = await createHarness('nosandbox');
    try {
      await request(h.app).get('/sandbox').expect(404);
      await request(h.app).post('/sandbox/api/messages').send({ waId: '15550100001', text: 'STOP' }).expect(404);
    } finally {
      await h.close();
    }
  });
});
