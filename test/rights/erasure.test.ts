import { runErasureJob } from '../../src/rights/erasure';
import { bodyText, createChatHarness, type ChatHarness } from '../support/chat';
import { rawDump } from '../support/testDb';

let h: ChatHarness;
beforeEach(async () => {
  h = await createChatHarness('erasure');
});
afterEach(() => h.close());

const DANA = { waId: '15550004444', name: 'Dana Erasure-Example' };
const OMAR = { waId: '15550005555', name: 'Omar Keeps-His-Data' };
const token = (waId: string) => h.deps.pii.blindIndex(`wa:${waId}`);

async function conversation() {
  await h.say(OMAR.waId, 'START', { name: OMAR.name });
  await h.say(OMAR.waId, 'my parcel from Omar is late', { name: OMAR.name });
  await h.say(DANA.waId, 'START', { name: DANA.name });
  await h.say(DANA.waId, 'my secret phrase is purple-giraffe', { name: DANA.name });
  await h.say(DANA.waId, 'MY DATA', { name: DANA.name });
}

describe.each([
  ['DELETE', 'en'],
  ['delete me please', 'en'],
  ['FORGET ME', 'en'],
  ['erase', 'en'],
  ['BORRAR', 'es'],
  ['eliminar mis datos', 'es'],
  ['APAGAR', 'pt'],
  ['excluir', 'pt'],
  ['SUPPRIMER', 'fr'],
  ['effacer', 'fr'],
  ['LÖSCHEN', 'de'],
  ['daten loeschen', 'de'],
  ['HAPUS', 'id'],
  ['hapus data saya', 'id'],
  ['ＤＥＬＥＴＥ', 'en'],
])('%p', (keyword, locale) => {
  it(`asks to confirm with buttons in ${locale}, valid 15 minutes, and deletes nothing yet`, async () => {
    const waId = '15550006666';
    const [q, ...rest] = await h.say(waId, keyword);
    expect(rest).toEqual([]);
    expect(q.interactive.body.text).toBe(h.t(locale, 'erase.question'));
    expect(q.interactive.action.buttons.map((b: any) => [b.reply.id, b.reply.title])).toEqual([
      ['erase.yes', h.t(locale, 'erase.yes')],
      ['erase.no', h.t(locale, 'erase.no')],
    ]);
    const s = await h.deps.models.Subscriber.findOne({ key: token(waId) }).lean();
    expect(s!.pending).toMatchObject({ kind: 'erasure', expiresAt: new Date(h.clock.now().getTime() + 15 * 60_000) });
    expect(await h.deps.models.Request.findOne({ subscriberToken: token(waId) }).lean()).toMatchObject({ type: 'erasure', state: 'open' });
  });
});

describe('DELETE → confirm', () => {
  it('hard-deletes every personal record of that person, keeps the other subscriber, a suppression entry and the pseudonymous ledger', async () => {
    await conversation();
    await h.say(DANA.waId, 'DELETE');
    const replies = await h.press(DANA.waId, 'erase.yes', 'Yes, erase');

    expect(replies).toHaveLength(1);
    const request = await h.deps.models.Request.findOne({ subscriberToken: token(DANA.waId), type: 'erasure' }).lean();
    expect(request).toMatchObject({ state: 'done', outcome: 'erased' });
    expect(bodyText(replies[0])).toBe(h.t('en', 'erase.done', { ref: request!._id.slice(-10) }));

    // A raw scan of every collection (bypassing mongoose): no number, no name, no text of Dana.
    const dump = await rawDump(h.db.conn);
    const everything = dump.map((d) => d.json).join('\n');
    for (const needle of [DANA.waId, DANA.name, 'purple-giraffe', 'Erasure-Example']) expect(everything).not.toContain(needle);
    // Nor in decrypted form: no document left decrypts to anything of hers.
    const decrypted = dump
      .flatMap((d) => Object.values(JSON.parse(d.json)).filter((v): v is string => typeof v === 'string' && v.startsWith('e1.')))
      .map((v) => h.deps.pii.decrypt(v))
      .join('\n');
    for (const needle of [DANA.waId, DANA.name, 'purple-giraffe']) expect(decrypted).not.toContain(needle);
    expect(decrypted).toContain(OMAR.name);
    expect(decrypted).toContain('my parcel from Omar is late');

    const m = h.deps.models;
    expect(await m.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(0);
    expect(await m.Subscriber.countDocuments({ key: token(OMAR.waId) })).toBe(1);
    expect(await m.Suppression.findById(token(DANA.waId)).lean()).toMatchObject({ reason: 'erasure' });
    expect(await m.Inbox.countDocuments({ subscriberKey: token(DANA.waId) })).toBe(0);
    expect(await m.Export.countDocuments()).toBe(0);
    // The confirmation was sent and then purged from the outbox.
    expect(await m.Outbox.countDocuments({ _id: /^erasure:/ })).toBe(0);
    const events = (await m.Ledger.find({ subscriberToken: token(DANA.waId) }).sort({ seq: 1 }).lean()).map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['erasure.received', 'erasure.confirmed', 'erasure.done']));
  });

  it('statuses that arrive later for the erased number are dropped without storing it', async () => {
    await conversation();
    await h.say(DANA.waId, 'DELETE');
    await h.press(DANA.waId, 'erase.yes');
    const confirmation = h.fake.deliveredTo(DANA.waId).at(-1)!;
    expect(bodyText(confirmation)).toMatch(/^Your data has been erased/);
    const before = await h.deps.models.Inbox.countDocuments();
    await h.post({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: '200000000000002' }, statuses: [{ id: 'wamid.any', status: 'delivered', timestamp: '1790000100', recipient_id: DANA.waId }] } }] }],
    });
    expect(await h.deps.models.Inbox.countDocuments()).toBe(before);
    expect(await h.deps.models.Inbox.countDocuments({ subscriberKey: token(DANA.waId) })).toBe(0);
  });

  it('a later message from the erased number is never prompted to opt back in, and marketing stays refused', async () => {
    await conversation();
    await h.say(DANA.waId, 'DELETE');
    await h.press(DANA.waId, 'erase.yes');
    const replies = await h.say(DANA.waId, 'hello again');
    expect(replies.map(bodyText)).toEqual([h.t('en', 'hint.unknown')]);
    expect(replies.map(bodyText).join(' ')).not.toMatch(/START/);
    expect(await h.deps.models.Suppression.exists({ _id: token(DANA.waId) })).toBeTruthy();
  });

  it('typing the button title works like pressing it', async () => {
    await h.say(DANA.waId, 'DELETE');
    const replies = await h.say(DANA.waId, 'Cancel');
    expect(replies.map(bodyText)).toEqual([h.t('en', 'erase.cancelled')]);
    const s = await h.deps.models.Subscriber.findOne({ key: token(DANA.waId) }).lean();
    expect(s!.consent).toBe('none'); // "cancel" here was the button, not an opt-out
  });
});

describe('DELETE → cancel, and DELETE → confirmation after 15 minutes', () => {
  it('cancel deletes nothing and says so', async () => {
    await conversation();
    const before = (await rawDump(h.db.conn)).filter((d) => ['subscribers', 'messages', 'consents'].includes(d.collection)).length;
    await h.say(DANA.waId, 'DELETE');
    const replies = await h.press(DANA.waId, 'erase.no', 'Cancel');
    expect(replies.map(bodyText)).toEqual([h.t('en', 'erase.cancelled')]);
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(1);
    expect(await h.deps.models.Suppression.countDocuments()).toBe(0);
    expect(await h.deps.models.Request.findOne({ subscriberToken: token(DANA.waId), type: 'erasure' }).lean()).toMatchObject({ state: 'cancelled' });
    const after = (await rawDump(h.db.conn)).filter((d) => ['subscribers', 'messages', 'consents'].includes(d.collection)).length;
    expect(after).toBeGreaterThan(before); // only grew: the DELETE conversation itself
  });

  it('a confirmation after 15 minutes deletes nothing', async () => {
    await conversation();
    await h.say(DANA.waId, 'DELETE');
    h.clock.advance(15 * 60_000 + 1000);
    const replies = await h.press(DANA.waId, 'erase.yes', 'Yes, erase');
    expect(replies.map(bodyText)).toEqual([h.t('en', 'erase.expired')]);
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(1);
    expect(await h.deps.models.Suppression.countDocuments()).toBe(0);
    expect(await h.deps.models.Request.findOne({ subscriberToken: token(DANA.waId), type: 'erasure' }).lean()).toMatchObject({ state: 'expired' });
  });

  it('a yes without a pending DELETE erases nothing', async () => {
    await conversation();
    const replies = await h.press(DANA.waId, 'erase.yes');
    expect(replies.map(bodyText)).toEqual([h.t('en', 'erase.nothingPending')]);
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(1);
  });
});

describe('an erasure interrupted by a crash', () => {
  it('is finished by the next run, never half-done, and confirmed once', async () => {
    await conversation();
    await h.say(DANA.waId, 'DELETE');
    const s = await h.deps.models.Subscriber.findOne({ key: token(DANA.waId) }).lean();
    const requestId = s!.pending!.requestId!;
    // The state a process killed right after deleting the messages leaves behind: the job is
    // recorded, its lease still held, part of the data gone.
    await h.deps.models.ErasureJob.collection.insertOne({
      _id: requestId as never,
      subscriberId: s!._id,
      subscriberToken: s!.key,
      toEnc: h.deps.pii.encrypt(JSON.stringify({ phone: `+${DANA.waId}` })),
      locale: 'en',
      state: 'running',
      leaseUntil: new Date(h.clock.now().getTime() + 60_000),
      startedAt: h.clock.now(),
    });
    await h.deps.models.Message.deleteMany({ subscriberId: s!._id });

    await h.workers.drain();
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(1); // lease still held

    h.clock.advance(61_000); // the lease of the dead process runs out
    await h.workers.drain();
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(0);
    expect(await h.deps.models.Consent.countDocuments({ subscriberId: s!._id })).toBe(0);
    expect(await h.deps.models.Suppression.exists({ _id: token(DANA.waId) })).toBeTruthy();
    const confirmations = h.newReplies(DANA.waId).filter((b) => bodyText(b).startsWith('Your data has been erased'));
    expect(confirmations).toHaveLength(1);

    // Running it again changes nothing and sends nothing.
    expect(await runErasureJob(h.deps, requestId)).toBe('missing');
    await h.workers.drain();
    expect(h.newReplies(DANA.waId)).toEqual([]);
  });
});
