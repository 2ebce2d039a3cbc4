import { createCipheriv, randomBytes } from 'node:crypto';
import request from 'supertest';
import { createStaff } from '../../src/staff/accounts';
import { conversation } from '../../src/staff/conversations';
import { at } from '../../src/privacy/pii';
import { sweepRetention } from '../../src/maintenance/sweepRetention';
import { bodyText, createChatHarness, type ChatHarness } from '../support/chat';
import { AppError } from '../../src/lib/errors';
import { createLogger } from '../../src/lib/logger';
import { LogSink, TEST_API_TOKEN, TEST_PHONE_NUMBER_ID } from '../support/harness';
import { openedValues, rawDump } from '../support/testDb';
import { buttonReply, envelope, messagesChange, signed, statusChange, textMessage, wamid } from '../support/whatsapp';
import { traceOf } from './traces';

/**
 * The promises an outsider tests first: an erased number cannot be recovered from anything we
 * keep or show (Meta's message ids encode it), messages are attributed and answered from what
 * Meta says about the message itself, old or replayed events never undo a newer choice, and only
 * our own buttons answer our questions.
 */
const SECOND_NUMBER = '200000000000009';
const PASSWORD = 'correct horse battery staple';
let h: ChatHarness;
beforeEach(async () => {
  h = await createChatHarness('erasedstays', { env: { WHATSAPP_PHONE_NUMBER_ID: `${TEST_PHONE_NUMBER_ID},${SECOND_NUMBER}` } });
});
afterEach(() => h.close());

const ts = (offsetSeconds = 0) => Math.floor(h.clock.now().getTime() / 1000) + offsetSeconds;
const subscriber = (waId: string) => h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${waId}`) }).lean();
const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };

async function viewer() {
  await createStaff(h.deps, null, { email: 'viewer@acme.test', name: 'Vi', role: 'viewer', password: PASSWORD });
  const agent = request.agent(h.app);
  await agent.post('/staff/api/login').send({ email: 'viewer@acme.test', password: PASSWORD }).expect(200);
  return async () => {
    const list = await agent.get('/staff/api/conversations').expect(200);
    const pages = [JSON.stringify(list.body), JSON.stringify((await agent.get('/staff/api/requests').expect(200)).body)];
    for (const c of list.body.conversations) pages.push(JSON.stringify((await agent.get(`/staff/api/conversations/${c.id}`).expect(200)).body));
    return pages.join('\n');
  };
}

describe('after DELETE of a person whose messages carry realistic Meta ids', () => {
  const DANA = '15550004444';
  const OMAR = '15550005555';

  it('no collection, no viewer answer and no debug log line holds the number, even base64-decoded', async () => {
    const staffView = await viewer();
    await h.say(OMAR, 'START', { name: 'Omar Keeps' });
    await h.say(DANA, 'START', { name: 'Dana Gone' });
    await h.say(DANA, 'where is my parcel?', { name: 'Dana Gone' });
    await h.say(DANA, 'MY DATA', { name: 'Dana Gone' });
    expect(h.fake.media.size).toBe(2); // the PDF and the JSON
    // Meta reports our messages to her (their ids encode her number), with and without our callback id.
    const sent = h.fake.delivered().filter((r) => (r.body as { to?: string }).to === `+${DANA}`);
    await h.post(envelope(statusChange({ id: sent[0].messageId!, status: 'read', recipientId: DANA })));
    await h.post(
      envelope(
        statusChange({
          id: sent[1].messageId!,
          status: 'delivered',
          recipientId: DANA,
          callback: String((sent[1].body as { biz_opaque_callback_data: string }).biz_opaque_callback_data),
        }),
      ),
    );
    // Items kept aside that are hers: another business's number, an old redelivery, a malformed one.
    await h.post(envelope(messagesChange({ waId: DANA, phoneNumberId: '999999' }, [textMessage('for another shop', { timestamp: ts() })])));
    await h.post(envelope(messagesChange({ waId: DANA }, [textMessage('from last month', { timestamp: ts(-30 * 86_400) })])));
    await h.post(
      envelope({
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { phone_number_id: TEST_PHONE_NUMBER_ID },
          messages: [{ from: DANA, type: 'text', timestamp: 'not a time', text: { body: 'x' } }],
        },
      }),
    );
    expect(await h.deps.models.Inbox.countDocuments({ state: 'ignored' })).toBe(3);

    // Before the erasure: a viewer sees her conversation, but nothing that leads to her number.
    const before = await staffView();
    expect(before).toContain('where is my parcel?');
    expect(traceOf(DANA, before)).toBeNull();

    await h.say(DANA, 'DELETE');
    const done = await h.press(DANA, 'erase.yes');
    const request = await h.deps.models.Request.findOne({ type: 'erasure' }).lean();
    expect(done.map(bodyText)).toEqual([h.t('en', 'erase.done', { ref: request!._id.slice(-10) })]);
    await h.workers.drain();

    const dump = await rawDump(h.db.conn);
    const everything = dump.map((d) => `${d.collection} ${d.json}`).join('\n');
    expect(traceOf(DANA, everything)).toBeNull();
    const opened = openedValues(h.deps.pii, dump).join('\n');
    expect(traceOf(DANA, opened)).toBeNull();
    expect(opened).not.toContain('Dana Gone');
    expect(opened).toContain('Omar Keeps'); // others untouched
    expect(traceOf(DANA, await staffView())).toBeNull();
    expect(traceOf(DANA, h.logs.text())).toBeNull();
    expect(h.logs.text()).toContain('"level":20');
    // The document we uploaded for her is gone from Meta too.
    expect(h.fake.media.size).toBe(0);
    expect(h.fake.requests.some((r) => r.method === 'DELETE')).toBe(true);
    // Her items' dedupe keys stay (bare), so a redelivery of what she wrote cannot re-create her.
    expect(await h.deps.models.Inbox.countDocuments({ state: 'erased' })).toBeGreaterThan(3);
    expect(await h.deps.models.Inbox.countDocuments({ state: 'erased', payloadEnc: { $ne: null } })).toBe(0);
  });

  it('a redelivery of a message she wrote before the erasure does not bring her back', async () => {
    const id = wamid(DANA);
    const old = envelope(messagesChange({ waId: DANA, name: 'Dana Gone' }, [textMessage('START', { id, timestamp: ts() })]));
    await h.post(old);
    await h.say(DANA, 'DELETE');
    await h.press(DANA, 'erase.yes');
    h.newReplies(DANA);
    await h.post(old);
    // A message written before the erasure but delivered for the first time after it, too.
    await h.post(envelope(messagesChange({ waId: DANA, name: 'Dana Gone' }, [textMessage('hello again', { timestamp: ts(-60) })])));
    expect(h.newReplies(DANA)).toEqual([]);
    expect(await subscriber(DANA)).toBeNull();
  });
});

describe('attribution and business numbers', () => {
  it('a delivery whose contacts[] names someone else is answered to its sender only, without the other profile', async () => {
    const [sender, other] = ['15550006001', '15550006002'];
    const change = messagesChange({ waId: sender }, [textMessage('HELP', { timestamp: ts() })]);
    change.value.contacts = [{ profile: { name: 'Bea Other' }, wa_id: other }];
    await h.post(envelope(change));
    expect(h.newReplies(sender)).toHaveLength(1);
    expect(h.newReplies(other)).toEqual([]);
    expect(await subscriber(other)).toBeNull();
    expect((await subscriber(sender))!.nameEnc).toBeNull();
  });

  it('a delivery for a business number that is not ours is kept aside and not acted on', async () => {
    const waId = '15550006003';
    await h.post(envelope(messagesChange({ waId, phoneNumberId: '300000000000777' }, [textMessage('STOP', { timestamp: ts() })])));
    expect(h.newReplies(waId)).toEqual([]);
    expect(await subscriber(waId)).toBeNull();
    expect(await h.deps.models.Inbox.findOne({}).lean()).toMatchObject({ state: 'ignored', type: 'foreign_number' });
    expect((await request(h.app).get('/metrics')).text).toMatch(/webhook_items_kept_aside_total\{reason="foreign_number"\} 1/);
  });

  it('with two configured numbers, each person is answered from the number they wrote to', async () => {
    const [first, second] = ['15550006004', '15550006005'];
    await h.post(envelope(messagesChange({ waId: first }, [textMessage('STOP', { timestamp: ts() })])));
    await h.post(envelope(messagesChange({ waId: second, phoneNumberId: SECOND_NUMBER }, [textMessage('STOP', { timestamp: ts() })])));
    const fromOf = (waId: string) =>
      h.fake
        .delivered()
        .filter((r) => (r.body as { to: string }).to === `+${waId}`)
        .map((r) => r.path.split('/')[2]);
    expect(fromOf(first)).toEqual([TEST_PHONE_NUMBER_ID]);
    expect(fromOf(second)).toEqual([SECOND_NUMBER]);
    // Staff replies follow the same number.
    const s = await subscriber(second);
    expect(s!.businessNumberId).toBe(SECOND_NUMBER);
  });
});

describe('event time decides', () => {
  it('a late START older than the last STOP leaves the person opted out (and is in the history)', async () => {
    const waId = '15550007001';
    await h.post(envelope(messagesChange({ waId }, [textMessage('STOP', { timestamp: ts() })])));
    h.newReplies(waId);
    // Meta redelivers a START the person sent a minute before their STOP, after it.
    await h.post(envelope(messagesChange({ waId }, [textMessage('START', { timestamp: ts(-60) })])));
    expect(h.newReplies(waId)).toEqual([]);
    const s = await subscriber(waId);
    expect(s).toMatchObject({ consent: 'opted_out' });
    const history = await h.deps.models.Consent.find({ subscriberId: s!._id }).sort({ at: 1 }).lean();
    expect(history.map((c) => c.action)).toEqual(['grant', 'withdraw']);
    expect((await request(h.app).get(`/api/v1/sendability/%2B${waId}`).set(auth)).body).toEqual({ marketing: false });
  });

  it('a replayed signed delivery older than the window changes nothing, even after its dedupe key was swept', async () => {
    const waId = '15550007002';
    const start = signed(envelope(messagesChange({ waId }, [textMessage('START', { timestamp: ts() })])));
    const post = (d: { raw: string; signature: string }) =>
      request(h.app).post('/webhook').set('content-type', 'application/json').set('x-hub-signature-256', d.signature).send(d.raw).expect(200);
    await post(start);
    await h.workers.drain();
    h.clock.advance(60_000);
    await h.say(waId, 'STOP');
    h.clock.advance(8 * 86_400_000);
    await sweepRetention(h.deps);
    expect(await h.deps.models.Inbox.countDocuments({})).toBe(0);
    h.newReplies(waId);
    await post(start);
    await h.workers.drain();
    expect(h.newReplies(waId)).toEqual([]);
    expect(await subscriber(waId)).toMatchObject({ consent: 'opted_out' });
    expect(await h.deps.models.Inbox.findOne({}).lean()).toMatchObject({ state: 'ignored', type: 'stale' });
  });
});

describe("Meta's signals for numbers we do not know", () => {
  const prefStop = (waId: string, timestamp: number) => ({
    field: 'user_preferences',
    value: {
      messaging_product: 'whatsapp',
      metadata: { phone_number_id: TEST_PHONE_NUMBER_ID },
      user_preferences: [{ wa_id: waId, category: 'marketing_messages', value: 'stop', timestamp }],
    },
  });

  it('a user_preferences stop, then an older API consent → not sendable; a newer one is', async () => {
    const waId = '15550008001';
    await h.post(envelope(prefStop(waId, ts(-60))));
    expect(await subscriber(waId)).toBeNull();
    expect(await h.deps.models.OptOutSignal.countDocuments({})).toBe(1);
    const older = await request(h.app)
      .post('/api/v1/consents')
      .set(auth)
      .send({ to: `+${waId}`, source: 'web form', collectedAt: new Date(h.clock.now().getTime() - 3600_000).toISOString() });
    expect(older.status).toBe(201);
    expect(older.body.marketing).toBe(false);
    expect((await request(h.app).get(`/api/v1/sendability/%2B${waId}`).set(auth)).body).toEqual({ marketing: false });
    const s = await subscriber(waId);
    expect(s).toMatchObject({ consent: 'opted_out' });
    const newer = await request(h.app)
      .post('/api/v1/consents')
      .set(auth)
      .send({ to: `+${waId}`, source: 'shop counter', collectedAt: h.clock.now().toISOString() });
    expect(newer.body.marketing).toBe(true);
  });

  it('a 131050 failure for a number without a profile is remembered the same way', async () => {
    const waId = '15550008002';
    await h.post(envelope(statusChange({ id: wamid(waId), status: 'failed', recipientId: waId, timestamp: ts(-30), errors: [{ code: 131050, title: 'x' }] })));
    const r = await request(h.app)
      .post('/api/v1/consents')
      .set(auth)
      .send({ to: `+${waId}`, source: 'web form', collectedAt: new Date(h.clock.now().getTime() - 3600_000).toISOString() });
    expect(r.body.marketing).toBe(false);
  });
});

describe.each([
  ['en', 'DELETE', 'Yes'],
  ['es', 'BORRAR', 'Sí'],
  ['de', 'LÖSCHEN', 'Ja'],
])('while an erasure waits (%s)', (locale, keyword, title) => {
  it(`a campaign button titled "${title}" erases nothing and the question is asked again`, async () => {
    const waId = '15550009001';
    await h.say(waId, keyword, { name: 'Pat' });
    h.newReplies(waId);
    const press = buttonReply('promo-2026-yes', title);
    press.timestamp = String(ts());
    await h.post(envelope(messagesChange({ waId }, [press])));
    // A template's quick reply with the same words is not ours either.
    await h.post(envelope(messagesChange({ waId }, [{ type: 'button', timestamp: String(ts()), button: { payload: 'PROMO_YES', text: title } }])));
    const replies = h.newReplies(waId);
    expect(replies.length).toBeGreaterThan(0);
    for (const r of replies) expect(bodyText(r)).toBe(h.t(locale, 'erase.question'));
    expect(await subscriber(waId)).not.toBeNull();
    expect(await h.deps.models.ErasureJob.countDocuments({})).toBe(0);
    expect(await h.deps.models.Request.findOne({ type: 'erasure' }).lean()).toMatchObject({ state: 'open' });
    // Our own button still works.
    await h.press(waId, 'erase.yes');
    expect(await subscriber(waId)).toBeNull();
  });
});

describe('sealed values are bound to their place', () => {
  it('a value copied into another document, or another field, does not decrypt', async () => {
    await h.say('15550009101', 'HELP', { name: 'Alice First' });
    await h.say('15550009102', 'HELP', { name: 'Bob Second' });
    const a = await subscriber('15550009101');
    const b = await subscriber('15550009102');
    await h.deps.models.Subscriber.updateOne({ _id: b!._id }, { $set: { nameEnc: a!.nameEnc } });
    await expect(conversation(h.deps, String(b!._id))).rejects.toMatchObject({ code: 'CRYPTO.BAD_CIPHERTEXT' });
    expect(() => h.deps.pii.decrypt(a!.waIdEnc!, at('subscribers', 'nameEnc', a!._id))).toThrow(/does not open/);
    expect(h.deps.pii.decrypt(a!.nameEnc!, at('subscribers', 'nameEnc', a!._id))).toBe('Alice First');
  });
});

describe('logs', () => {
  it('an error whose message quotes a number is logged by class, code and stack frames only', () => {
    const sink = new LogSink();
    const log = createLogger('debug', sink);
    log.error({ err: Object.assign(new TypeError('boom for 15550009999'), { code: 'E_TEST' }) }, 'failed');
    log.error({ err: new AppError('DB.UNAVAILABLE', 'could not store the delivery') }, 'failed');
    const [plain, ours] = sink.lines.map((l) => JSON.parse(l));
    expect(sink.text()).not.toContain('15550009999');
    expect(plain.err).toMatchObject({ type: 'TypeError', code: 'E_TEST', stack: expect.stringContaining('at ') });
    expect(ours.err).toMatchObject({ type: 'AppError', code: 'DB.UNAVAILABLE', message: 'could not store the delivery' });
  });
});

describe('what an outside review found', () => {
  it('a person first known by username, then by number: the erasure covers both, and no third party re-subscribes the number', async () => {
    const [waId, bsuid] = ['15550010001', 'US.13491208655302741918'];
    const first = messagesChange({ waId, bsuid }, [textMessage('HELP', { timestamp: ts() })]);
    delete (first.value.messages[0] as Record<string, unknown>).from;
    first.value.contacts = [{ profile: { name: 'Uma Username' }, wa_id: undefined as unknown as string, user_id: bsuid } as never];
    await h.post(envelope(first));
    await h.post(envelope(messagesChange({ waId, bsuid }, [textMessage('my address is 1 Main St', { timestamp: ts(1) })])));
    expect(await h.deps.models.Subscriber.countDocuments({})).toBe(1);
    await h.say(waId, 'DELETE');
    await h.press(waId, 'erase.yes');
    const opened = openedValues(h.deps.pii, await rawDump(h.db.conn)).join('\n');
    expect(opened).not.toContain('1 Main St');
    expect(traceOf(waId, opened)).toBeNull();
    const consent = await request(h.app)
      .post('/api/v1/consents')
      .set(auth)
      .send({ to: `+${waId}`, source: 'web form', collectedAt: h.clock.now().toISOString() });
    expect(consent.status).toBe(409);
  });

  it('STOP said again later moves the state on, so an older START delivered late cannot win', async () => {
    const waId = '15550010002';
    await h.post(envelope(messagesChange({ waId }, [textMessage('STOP', { timestamp: ts(-100) })])));
    await h.post(envelope(messagesChange({ waId }, [textMessage('STOP', { timestamp: ts(-10) })])));
    await h.post(envelope(messagesChange({ waId }, [textMessage('START', { timestamp: ts(-50) })])));
    expect(await subscriber(waId)).toMatchObject({ consent: 'opted_out' });
  });

  it('an API consent dated a few minutes ahead does not swallow the STOP the person sends now', async () => {
    const waId = '15550010003';
    const ahead = new Date(h.clock.now().getTime() + 4 * 60_000).toISOString();
    expect(
      (
        await request(h.app)
          .post('/api/v1/consents')
          .set(auth)
          .send({ to: `+${waId}`, source: 'web form', collectedAt: ahead })
      ).body.marketing,
    ).toBe(true);
    h.clock.advance(1000);
    const replies = await h.say(waId, 'STOP');
    expect(replies.map(bodyText)).toEqual([h.t('en', 'optOut.confirmed')]);
    expect(await subscriber(waId)).toMatchObject({ consent: 'opted_out' });
  });

  it('after a change of number, the erasure also removes what was kept under the old number', async () => {
    const [oldN, newN] = ['15550010004', '15550010005'];
    await h.say(oldN, 'my old-number secret', { name: 'Chen' });
    await h.post(
      envelope({
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { phone_number_id: TEST_PHONE_NUMBER_ID },
          messages: [
            { from: oldN, id: wamid(oldN), timestamp: String(ts()), type: 'system', system: { body: 'changed', wa_id: newN, type: 'user_changed_number' } },
          ],
        },
      }),
    );
    await h.say(newN, 'DELETE');
    await h.press(newN, 'erase.yes');
    const opened = openedValues(h.deps.pii, await rawDump(h.db.conn)).join('\n');
    expect(opened).not.toContain('old-number secret');
    expect(traceOf(oldN, opened)).toBeNull();
  });

  it('an item of an unknown kind that is about the person is erased with them', async () => {
    const waId = '15550010006';
    await h.say(waId, 'HELP');
    await h.post(
      envelope({
        field: 'smb_message_echoes',
        value: {
          messaging_product: 'whatsapp',
          metadata: { phone_number_id: TEST_PHONE_NUMBER_ID },
          message_echoes: [{ to: waId, type: 'text', text: { body: 'echo for the person' } }],
        },
      }),
    );
    await h.say(waId, 'DELETE');
    await h.press(waId, 'erase.yes');
    const opened = openedValues(h.deps.pii, await rawDump(h.db.conn)).join('\n');
    expect(opened).not.toContain('echo for the person');
  });

  it('a value sealed before values were bound to their place opens only for the migration', async () => {
    await h.say('15550010007', 'HELP', { name: 'Old Backup' });
    const s = await subscriber('15550010007');
    const place = at('subscribers', 'nameEnc', s!._id);
    // An unbound value, as the previous version wrote it, planted into the profile.
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', Buffer.alloc(32, 7), iv);
    const ct = Buffer.concat([c.update('Planted Name', 'utf8'), c.final()]);
    const planted = ['e1', 'k1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
    expect(() => h.deps.pii.decrypt(planted, place)).toThrow(/unbound/);
    expect(h.deps.pii.decrypt(planted, place, { legacy: true })).toBe('Planted Name');
  });
});
