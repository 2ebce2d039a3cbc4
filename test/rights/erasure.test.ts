import { messageKey } from '../../src/privacy/ids';
import { at } from '../../src/privacy/pii';
import { runErasureJob } from '../../src/rights/erasure';
import { bodyText, createChatHarness, type ChatHarness } from '../support/chat';
import { TEST_PHONE_NUMBER_ID } from '../support/harness';
import { openedValues, rawDump } from '../support/testDb';
import { envelope, wamid } from '../support/whatsapp';

let h: ChatHarness;
beforeEach(async () => {
  h = await createChatHarness('erasure');
});
afterEach(() => h.close());

const DANA = { waId: '15550004444', name: 'Dana Erasure-Example' };
const OMAR = { waId: '15550005555', name: 'Omar Keeps-His-Data' };
const token = (waId: string) => h.deps.pii.blindIndex(`wa:${waId}`);

/**
 * Dana asks to be erased, and the job is left as a process that died mid-way leaves it: recorded,
 * running, with the lease it last held and the sealed recipient given (default: one that opens).
 */
async function abandonedJob(o: { leaseUntil: Date; toEnc?: string }) {
  await conversation();
  await h.say(DANA.waId, 'DELETE');
  const s = await h.deps.models.Subscriber.findOne({ key: token(DANA.waId) }).lean();
  const requestId = s!.pending!.requestId!;
  await h.deps.models.ErasureJob.collection.insertOne({
    _id: requestId as never,
    subscriberId: s!._id,
    subscriberToken: s!.key,
    toEnc: o.toEnc ?? h.deps.pii.encrypt(JSON.stringify({ phone: `+${DANA.waId}` }), at('erasureJobs', 'toEnc', requestId)),
    phoneNumberId: TEST_PHONE_NUMBER_ID,
    locale: 'en',
    state: 'running',
    leaseUntil: o.leaseUntil,
    startedAt: h.clock.now(),
  });
  return { s: s!, requestId };
}

/** Both talk to us; Dana also gets her data. Returns the ids (wamids) of the messages Dana wrote. */
async function conversation(): Promise<string[]> {
  await h.say(OMAR.waId, 'START', { name: OMAR.name });
  await h.say(OMAR.waId, 'my parcel from Omar is late', { name: OMAR.name });
  const dana = [wamid(DANA.waId), wamid(DANA.waId), wamid(DANA.waId)];
  await h.say(DANA.waId, 'START', { name: DANA.name, id: dana[0] });
  await h.say(DANA.waId, 'my secret phrase is purple-giraffe', { name: DANA.name, id: dana[1] });
  await h.say(DANA.waId, 'MY DATA', { name: DANA.name, id: dana[2] });
  return dana;
}

/** The ids of the messages the fake Graph API delivered to this number (Meta's wamids: they encode the number). */
const graphIdsTo = (waId: string) =>
  h.fake
    .delivered()
    .filter((r) => String((r.body as any)?.to).replace(/^\+/, '') === waId)
    .map((r) => r.messageId!);

/** The button ids and titles of a question, checked to be that question's own pair (one nonce). */
function questionButtons(q: Record<string, any>, prefix: 'erase' | 'optout'): { qid: string; titles: string[] } {
  const [yes, no] = q.interactive.action.buttons.map((b: any) => b.reply);
  expect(q.interactive.action.buttons).toHaveLength(2);
  expect(yes.id).toEqual(expect.stringMatching(new RegExp(`^${prefix}\\.yes\\.[\\w-]+$`)));
  const qid = yes.id.slice(`${prefix}.yes.`.length);
  expect(no.id).toBe(`${prefix}.no.${qid}`);
  return { qid, titles: [yes.title, no.title] };
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
    const { qid, titles } = questionButtons(q, 'erase');
    expect(titles).toEqual([h.t(locale, 'erase.yes'), h.t(locale, 'erase.no')]);
    const s = await h.deps.models.Subscriber.findOne({ key: token(waId) }).lean();
    // The buttons carry the nonce of the question now waiting: only they answer it.
    expect(s!.pending).toMatchObject({ kind: 'erasure', questionId: qid, expiresAt: new Date(h.clock.now().getTime() + 15 * 60_000) });
    expect(await h.deps.models.Request.findOne({ subscriberToken: token(waId) }).lean()).toMatchObject({ type: 'erasure', state: 'open' });
  });
});

describe('DELETE → confirm', () => {
  it('hard-deletes every personal record of that person (her inbox items become bare dedupe keys, her document is deleted at Meta), keeps the other subscriber, a suppression entry and the pseudonymous ledger', async () => {
    const danaWrote = await conversation();
    await h.say(DANA.waId, 'DELETE');
    const m = h.deps.models;
    const dana = await m.Subscriber.findOne({ key: token(DANA.waId) }).lean();
    // What there is to erase: her inbox items (keyed by the hash of her message ids, never the
    // ids themselves), her outbox items and the MY DATA document still held at Meta.
    const herInbox = (await m.Inbox.find({ subscriberKey: token(DANA.waId) }, { _id: 1 }).lean()).map((i) => i._id);
    expect(herInbox).toEqual(expect.arrayContaining(danaWrote.map((id) => messageKey(h.deps.pii, id))));
    expect(herInbox).toHaveLength(4); // START, the secret, MY DATA, DELETE
    expect(await m.Outbox.countDocuments({ subscriberId: dana!._id })).toBeGreaterThan(0);
    const herDocuments = [...h.fake.media];
    expect(herDocuments).toHaveLength(2); // MY DATA's PDF and JSON
    for (const id of herDocuments) expect(await m.Outbox.countDocuments({ subscriberId: dana!._id, mediaId: id })).toBe(1);

    const replies = await h.press(DANA.waId, 'erase.yes', 'Yes, erase');

    expect(replies).toHaveLength(1);
    const request = await m.Request.findOne({ subscriberToken: token(DANA.waId), type: 'erasure' }).lean();
    expect(request).toMatchObject({ state: 'done', outcome: 'erased' });
    expect(bodyText(replies[0])).toBe(h.t('en', 'erase.done', { ref: request!._id.slice(-10) }));

    // A raw scan of every collection (bypassing mongoose): no number, no name, no text of Dana, and
    // none of the WhatsApp message ids of her conversation (they encode her number).
    const herMessageIds = [...danaWrote, ...graphIdsTo(DANA.waId)];
    expect(herMessageIds.length).toBeGreaterThanOrEqual(3 + 5); // her 3 messages; our replies, the question and the confirmation
    const dump = await rawDump(h.db.conn);
    const everything = dump.map((d) => d.json).join('\n');
    for (const needle of [DANA.waId, DANA.name, 'purple-giraffe', 'Erasure-Example', ...herMessageIds]) expect(everything).not.toContain(needle);
    // Nor in decrypted form: no document left decrypts to anything of hers.
    const decrypted = openedValues(h.deps.pii, dump).join('\n');
    for (const needle of [DANA.waId, DANA.name, 'purple-giraffe', ...herMessageIds]) expect(decrypted).not.toContain(needle);
    expect(decrypted).toContain(OMAR.name);
    expect(decrypted).toContain('my parcel from Omar is late');
    expect(decrypted).toContain(OMAR.waId);

    expect(await m.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(0);
    expect(await m.Subscriber.countDocuments({ key: token(OMAR.waId) })).toBe(1);
    expect(await m.Suppression.findById(token(DANA.waId)).lean()).toMatchObject({ reason: 'erasure' });
    // Her inbox items stay only as tombstones: the keyed id (so a redelivery is still a duplicate),
    // no payload, no link to her.
    expect(await m.Inbox.countDocuments({ subscriberKey: token(DANA.waId) })).toBe(0);
    const tombstones = await m.Inbox.find({ _id: { $in: herInbox } }).lean();
    expect(tombstones).toHaveLength(herInbox.length);
    for (const t of tombstones) {
      expect(t).toMatchObject({ state: 'erased' });
      expect(t.payloadEnc ?? null).toBeNull();
      expect(t.subscriberKey ?? null).toBeNull();
    }
    // The only payloads left are Omar's (his two messages); her "yes" left none either.
    expect((await m.Inbox.find({ payloadEnc: { $type: 'string' } }).lean()).map((i) => i.subscriberKey)).toEqual([token(OMAR.waId), token(OMAR.waId)]);
    expect(await m.Inbox.countDocuments()).toBe(2 + herInbox.length + 1);
    expect(await m.Export.countDocuments()).toBe(0);
    // Nothing of hers is left in the outbox: the confirmation was sent and then purged too.
    expect(await m.Outbox.countDocuments({ subscriberId: dana!._id })).toBe(0);
    expect(await m.Outbox.countDocuments({ _id: /^erasure:/ })).toBe(0);
    // The document we uploaded for her is deleted at Meta, and nothing is left to do about it.
    for (const id of herDocuments)
      expect(h.fake.requests.filter((r) => r.method === 'DELETE' && r.path.split('?')[0].endsWith(`/${id}`) && (r as any).ok)).toHaveLength(1);
    expect([...h.fake.media]).toEqual([]);
    expect(await m.MediaDeletion.countDocuments()).toBe(0);
    const events = (
      await m.Ledger.find({ subscriberToken: token(DANA.waId) })
        .sort({ seq: 1 })
        .lean()
    ).map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['erasure.received', 'erasure.confirmed', 'erasure.done']));
  });

  it('statuses that arrive later for the erased number are dropped without storing it', async () => {
    await conversation();
    await h.say(DANA.waId, 'DELETE');
    await h.press(DANA.waId, 'erase.yes');
    const confirmation = h.fake.delivered().at(-1)!;
    expect(bodyText(confirmation.body as Record<string, any>)).toMatch(/^Your data has been erased/);
    expect(String((confirmation.body as any).to)).toBe(`+${DANA.waId}`);
    const before = await h.deps.models.Inbox.countDocuments();
    // The confirmation's own statuses, as Meta sends them a moment later (inside the replay window).
    const now = String(Math.floor(h.clock.now().getTime() / 1000));
    for (const status of ['sent', 'delivered']) {
      await h.post({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '1',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { phone_number_id: TEST_PHONE_NUMBER_ID },
                  statuses: [{ id: confirmation.messageId, status, timestamp: now, recipient_id: DANA.waId }],
                },
              },
            ],
          },
        ],
      });
    }
    expect(await h.deps.models.Inbox.countDocuments()).toBe(before);
    expect(await h.deps.models.Inbox.countDocuments({ subscriberKey: token(DANA.waId) })).toBe(0);
    // The same status for someone not erased is stored: the drop above is about her, not statuses.
    await h.post({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { phone_number_id: TEST_PHONE_NUMBER_ID },
                statuses: [{ id: graphIdsTo(OMAR.waId).at(-1), status: 'delivered', timestamp: now, recipient_id: OMAR.waId }],
              },
            },
          ],
        },
      ],
    });
    expect(await h.deps.models.Inbox.countDocuments({ subscriberKey: token(OMAR.waId), field: 'statuses' })).toBe(1);
  });

  it.each([
    ['a few people', 3],
    ['many people', 12],
  ])('a delivery of statuses for %s drops only those of the erased number', async (_label, people) => {
    await conversation();
    await h.say(DANA.waId, 'DELETE');
    await h.press(DANA.waId, 'erase.yes');
    const confirmation = h.fake.delivered().at(-1)!;
    const now = String(Math.floor(h.clock.now().getTime() / 1000));
    const others = Array.from({ length: people - 1 }, (_, i) => `1555300${people}${String(i).padStart(3, '0')}`);
    const statuses = [
      { id: confirmation.messageId, status: 'delivered', timestamp: now, recipient_id: DANA.waId },
      ...others.map((waId) => ({ id: wamid(waId), status: 'delivered', timestamp: now, recipient_id: waId })),
    ];
    await h.post(envelope({ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: TEST_PHONE_NUMBER_ID }, statuses } }));
    expect(await h.deps.models.Inbox.countDocuments({ subscriberKey: token(DANA.waId) })).toBe(0);
    for (const waId of others) expect(await h.deps.models.Inbox.countDocuments({ subscriberKey: token(waId), field: 'statuses' })).toBe(1);
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
    // A well-formed "Yes, erase" button of a question never asked.
    const replies = await h.press(DANA.waId, 'erase.yes.AAAAAAAAAAAA', 'Yes, erase');
    expect(replies.map(bodyText)).toEqual([h.t('en', 'erase.nothingPending')]);
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(1);
    expect(await h.deps.models.Suppression.countDocuments()).toBe(0);
  });

  it('the "Yes, erase" button of a cancelled question erases nothing', async () => {
    await conversation();
    await h.say(DANA.waId, 'DELETE');
    await h.press(DANA.waId, 'erase.no', 'Cancel');
    const replies = await h.press(DANA.waId, 'erase.yes', 'Yes, erase'); // the button on that old question
    expect(replies.map(bodyText)).toEqual([h.t('en', 'erase.nothingPending')]);
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(1);
    expect(await h.deps.models.Suppression.countDocuments()).toBe(0);
  });

  it('only the buttons of the question now waiting answer it: those of an earlier DELETE erase nothing', async () => {
    await conversation();
    const [first] = await h.say(DANA.waId, 'DELETE');
    const [second] = await h.say(DANA.waId, 'DELETE');
    const older = questionButtons(first, 'erase').qid;
    const newer = questionButtons(second, 'erase').qid;
    expect(newer).not.toBe(older);
    const stale = await h.press(DANA.waId, `erase.yes.${older}`, 'Yes, erase');
    expect(stale.map(bodyText)).toEqual([h.t('en', 'erase.nothingPending')]);
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(1);
    expect(await h.deps.models.Suppression.countDocuments()).toBe(0);
    // The question now waiting is still answered by its own button.
    const done = await h.press(DANA.waId, `erase.yes.${newer}`, 'Yes, erase');
    expect(done.map(bodyText)).toEqual([expect.stringMatching(/^Your data has been erased/)]);
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(0);
  });

  it.each([
    ['yes', 'en'],
    ['sí', 'es'],
  ])('a typed %p alone does not confirm: the question is asked again (%s)', async (typed, locale) => {
    await conversation();
    const [q] = await h.say(DANA.waId, locale === 'es' ? 'BORRAR' : 'DELETE');
    const { qid } = questionButtons(q, 'erase');
    const replies = await h.say(DANA.waId, typed);
    expect(replies).toHaveLength(1);
    expect(replies[0].interactive.body.text).toBe(h.t(locale, 'erase.question'));
    expect(questionButtons(replies[0], 'erase').qid).toBe(qid); // the same question, the same buttons
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(1);
    expect(await h.deps.models.Suppression.countDocuments()).toBe(0);
    expect(await h.deps.models.Request.findOne({ subscriberToken: token(DANA.waId), type: 'erasure' }).lean()).toMatchObject({ state: 'open' });
    const inbound = await h.deps.models.Message.find({ direction: 'in', intent: 'reask' }).lean();
    expect(inbound).toHaveLength(1);
  });
});

describe('an erasure interrupted by a crash', () => {
  it('is finished by the next run, never half-done, and confirmed once', async () => {
    // The state a process killed right after deleting the messages leaves behind: the job is
    // recorded, its lease still held, part of the data gone.
    const { s, requestId } = await abandonedJob({ leaseUntil: new Date(h.clock.now().getTime() + 60_000) });
    await h.deps.models.Message.deleteMany({ subscriberId: s._id });

    await h.workers.drain();
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(1); // lease still held

    h.clock.advance(61_000); // the lease of the dead process runs out
    await h.workers.drain();
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(0);
    expect(await h.deps.models.Consent.countDocuments({ subscriberId: s._id })).toBe(0);
    expect(await h.deps.models.Suppression.exists({ _id: token(DANA.waId) })).toBeTruthy();
    expect(await h.deps.models.Inbox.countDocuments({ subscriberKey: token(DANA.waId) })).toBe(0);
    expect(await h.deps.models.Inbox.countDocuments({ state: 'erased', payloadEnc: null })).toBeGreaterThanOrEqual(4); // START, the secret, MY DATA, DELETE
    const confirmations = h.newReplies(DANA.waId).filter((b) => bodyText(b).startsWith('Your data has been erased'));
    expect(confirmations).toHaveLength(1);
    // Sent from our business number (the one the job recorded).
    const sent = h.fake.delivered().filter((r) => bodyText(r.body as Record<string, any>).startsWith('Your data has been erased'));
    expect(sent.map((r) => r.path.split('?')[0])).toEqual([expect.stringMatching(new RegExp(`/${TEST_PHONE_NUMBER_ID}/messages$`))]);

    // Running it again changes nothing and sends nothing.
    expect(await runErasureJob(h.deps.rights, requestId)).toBe('missing');
    await h.workers.drain();
    expect(h.newReplies(DANA.waId)).toEqual([]);
  });
});

describe('an erasure whose confirmation address cannot be opened', () => {
  it('still erases everything first; only the confirmation is left undone (the job stays to retry)', async () => {
    // A sealed recipient that no key opens (a key removed after an unfinished rotation).
    const { s, requestId } = await abandonedJob({ leaseUntil: new Date(h.clock.now().getTime() - 1), toEnc: 'e2.k9.not-a-sealed-value' });
    await expect(runErasureJob(h.deps.rights, requestId)).rejects.toThrow();
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(DANA.waId) })).toBe(0);
    expect(await h.deps.models.Message.countDocuments({ subscriberId: s._id })).toBe(0);
    expect(await h.deps.models.Consent.countDocuments({ subscriberId: s._id })).toBe(0);
    expect(await h.deps.models.Export.countDocuments({ subscriberId: s._id })).toBe(0);
    expect(await h.deps.models.Suppression.exists({ _id: token(DANA.waId) })).toBeTruthy();
    expect(await h.deps.models.ErasureJob.findById(requestId).lean()).toMatchObject({ state: 'running' });
    // Omar's data is untouched.
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(OMAR.waId) })).toBe(1);
  });
});
