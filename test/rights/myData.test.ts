import request from 'supertest';
import { bodyText, createChatHarness, type ChatHarness } from '../support/chat';
import { messagesChange, textMessage, wamid, wireFixture } from '../support/whatsapp';
import { at } from '../../src/privacy/pii';
import { META_DOCUMENT_TYPES } from '../support/fakeGraph';

let h: ChatHarness;
beforeEach(async () => {
  h = await createChatHarness('mydata');
});
afterEach(() => h.close());

const token = (waId: string) => h.deps.pii.blindIndex(`wa:${waId}`);

/** The files the fake Graph API accepted as media uploads, as Meta read their multipart forms. */
const uploads = () => h.fake.uploads();
/** The JSON files uploaded, parsed. */
function uploadedExports(): any[] {
  return uploads()
    .filter((u) => u.filename?.endsWith('.json.txt'))
    .map((u) => JSON.parse(u.bytes.toString('utf8')));
}

describe.each([
  ['MY DATA', 'en'],
  ['mydata', 'en'],
  ['my data please', 'en'],
  ['send me my data', 'en'],
  ['ＭＹ ＤＡＴＡ', 'en'],
  ['MIS DATOS', 'es'],
  ['mis datos por favor', 'es'],
  ['MEUS DADOS', 'pt'],
  ['meus dados por favor', 'pt'],
  ['MES DONNÉES', 'fr'],
  ['mes donnees svp', 'fr'],
  ['MEINE DATEN', 'de'],
  ['meine daten bitte', 'de'],
  ['DATA SAYA', 'id'],
  ['data saya tolong', 'id'],
])('%p', (keyword, locale) => {
  it(`answers with the Art. 15 summary in ${locale}, then a PDF and the JSON as documents to the same number`, async () => {
    const waId = '15550007777';
    // The question, our hint, then the request itself: three messages in the conversation.
    await h.say(waId, 'hello there, a question about my order 42', { name: 'Maria Export' });
    const replies = await h.say(waId, keyword, { name: 'Maria Export' });
    expect(replies).toHaveLength(3);
    expect(bodyText(replies[0])).toBe(h.t(locale, 'myData.summary', { messages: 3, messageDays: 90, ledgerYears: 6 }));
    const [pdf, json] = replies.slice(1);
    const day = h.clock.now().toISOString().slice(0, 10);
    expect(pdf).toMatchObject({ type: 'document', to: `+${waId}`, document: { filename: `my-data-${day}.pdf`, caption: h.t(locale, 'myData.documentPdf') } });
    expect(json).toMatchObject({
      type: 'document',
      to: `+${waId}`,
      document: { filename: `my-data-${day}.json.txt`, caption: h.t(locale, 'myData.document') },
    });
    // Each document sent is the one just uploaded (Meta's media id), still held at Meta until it is
    // delivered, at the latest a day: its deletion there is scheduled.
    for (const d of [pdf, json]) {
      expect(d.document.id).toMatch(/^\d+$/);
      expect(await h.deps.models.MediaDeletion.findById(d.document.id).lean()).toMatchObject({ dueAt: new Date(h.clock.now().getTime() + 24 * 3600_000) });
    }
    expect([...h.fake.media]).toEqual([pdf.document.id, json.document.id]);
    // Uploaded with a type on WhatsApp's list of documents: the form's field and the file's own type.
    const [pdfFile, jsonFile] = uploads();
    expect(pdfFile).toMatchObject({ messagingProduct: 'whatsapp', type: 'application/pdf', fileType: 'application/pdf', filename: `my-data-${day}.pdf` });
    expect(jsonFile).toMatchObject({ messagingProduct: 'whatsapp', type: 'text/plain', fileType: 'text/plain', filename: `my-data-${day}.json.txt` });
    for (const f of [pdfFile, jsonFile]) expect(META_DOCUMENT_TYPES).toContain(f.type);
    expect(pdfFile.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const [exported] = uploadedExports();
    expect(exported).toMatchObject({ schemaVersion: 1, subject: { whatsappNumber: `+${waId}`, profileName: 'Maria Export', language: locale } });
    expect(await h.deps.models.Request.findOne({ subscriberToken: token(waId), type: 'access' }).lean()).toMatchObject({ state: 'done' });
  });
});

describe('MY DATA', () => {
  it('the document contains every message of that subscriber, our replies, consents and requests, and nothing of anyone else', async () => {
    const me = '15550008881';
    const other = '15550008882';
    await h.say(other, 'START', { name: 'Other Person' });
    await h.say(other, 'other person secret text', { name: 'Other Person' });
    await h.say(me, 'START', { name: 'Me Myself' });
    for (let i = 0; i < 25; i++)
      await h.post({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '1',
            changes: [
              messagesChange({ waId: me, name: 'Me Myself' }, [textMessage(`note number ${i}`, { timestamp: Math.floor(h.clock.now().getTime() / 1000) })]),
            ],
          },
        ],
      });
    await h.say(me, 'MY DATA', { name: 'Me Myself' });

    const exported = uploadedExports().pop();
    const mine = exported.messages.filter((m: any) => m.direction === 'in').map((m: any) => m.text);
    expect(mine).toEqual(['START', ...Array.from({ length: 25 }, (_, i) => `note number ${i}`), 'MY DATA']);
    expect(exported.messages.filter((m: any) => m.direction === 'out').map((m: any) => m.text)).toContain(h.t('en', 'optIn.confirmed'));
    expect(exported.consent.history).toEqual([expect.objectContaining({ action: 'grant', source: 'keyword' })]);
    expect(exported.requests.map((r: any) => r.type)).toEqual(['opt_in', 'access']);
    const text = JSON.stringify(exported);
    expect(text).not.toContain(other);
    expect(text).not.toContain('Other Person');
    expect(text).not.toContain('other person secret text');
  });

  it('is limited to a few times a day, with a friendly reply', async () => {
    const waId = '15550008883';
    for (let i = 0; i < 3; i++) expect(await h.say(waId, 'MY DATA')).toHaveLength(3);
    const replies = await h.say(waId, 'MY DATA');
    expect(replies.map(bodyText)).toEqual([h.t('en', 'myData.limited')]);
    h.clock.advance(24 * 3600_000 + 1);
    expect(await h.say(waId, 'MY DATA')).toHaveLength(3);
  });
});

describe("Meta's own signals", () => {
  const seconds = () => Math.floor(h.clock.now().getTime() / 1000);
  const pref = (waId: string, value: string, ts: number) => ({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '1',
        changes: [
          {
            field: 'user_preferences',
            value: {
              messaging_product: 'whatsapp',
              metadata: { phone_number_id: '200000000000002' },
              contacts: [{ wa_id: waId }],
              user_preferences: [{ wa_id: waId, detail: 'x', category: 'marketing_messages', value, timestamp: ts }],
            },
          },
        ],
      },
    ],
  });

  it('a user_preferences stop records a marketing opt-out and sends nothing; a resume is recorded but is no opt-in', async () => {
    const waId = '15550008884';
    await h.say(waId, 'START');
    h.clock.advance(60_000);
    const stoppedAt = seconds();
    await h.post(pref(waId, 'stop', stoppedAt));
    expect(h.newReplies(waId)).toEqual([]);
    const s = await h.deps.models.Subscriber.findOne({ key: token(waId) }).lean();
    expect(s).toMatchObject({ consent: 'opted_out', consentAt: new Date(stoppedAt * 1000) });
    h.clock.advance(60_000);
    await h.post(pref(waId, 'resume', seconds()));
    expect(h.newReplies(waId)).toEqual([]);
    expect((await h.deps.models.Subscriber.findOne({ key: token(waId) }).lean())!.consent).toBe('opted_out');
    const sources = (await h.deps.models.Consent.find({ subscriberId: s!._id }).sort({ at: 1 }).lean()).map((c) => `${c.action}:${c.source}`);
    expect(sources).toEqual(['grant:keyword', 'withdraw:meta_preferences', 'resume:meta_preferences']);
  });

  it('a stop older than the START the person sent later is recorded but does not undo it', async () => {
    const waId = '15550008886';
    const before = seconds() - 60; // they stopped in WhatsApp, then wrote START; Meta told us late
    await h.say(waId, 'START');
    await h.post(pref(waId, 'stop', before));
    expect(h.newReplies(waId)).toEqual([]);
    const s = await h.deps.models.Subscriber.findOne({ key: token(waId) }).lean();
    expect(s).toMatchObject({ consent: 'opted_in', consentAt: h.clock.now() });
    const history = (await h.deps.models.Consent.find({ subscriberId: s!._id }).sort({ at: 1 }).lean()).map((c) => [c.action, c.source, c.at]);
    expect(history).toEqual([
      ['withdraw', 'meta_preferences', new Date(before * 1000)],
      ['grant', 'keyword', h.clock.now()],
    ]);
  });

  it('a stop for a number we do not know is remembered pseudonymously and applies when they first write', async () => {
    const waId = '15550008887';
    const stoppedAt = seconds();
    await h.post(pref(waId, 'stop', stoppedAt));
    expect(h.newReplies(waId)).toEqual([]);
    expect(await h.deps.models.Subscriber.countDocuments({ key: token(waId) })).toBe(0);
    expect(await h.deps.models.OptOutSignal.findById(token(waId)).lean()).toMatchObject({ source: 'meta_preferences', at: new Date(stoppedAt * 1000) });
    expect(JSON.stringify(await h.deps.models.OptOutSignal.find({}).lean())).not.toContain(waId);

    h.clock.advance(60_000);
    await h.say(waId, 'what time do you open?');
    const s = await h.deps.models.Subscriber.findOne({ key: token(waId) }).lean();
    expect(s).toMatchObject({ consent: 'opted_out', consentAt: new Date(stoppedAt * 1000) });
    expect((await h.deps.models.Consent.find({ subscriberId: s!._id }).lean()).map((c) => `${c.action}:${c.source}`)).toEqual(['withdraw:meta_preferences']);
    expect(await h.deps.models.OptOutSignal.countDocuments()).toBe(0);
  });

  it('a failed status with 131050 records a marketing opt-out with no reply', async () => {
    const waId = '15550008885';
    await h.say(waId, 'START');
    const out = await h.deps.models.Outbox.findOne({}).sort({ createdAt: -1 }).lean();
    const sent = h.fake.delivered().at(-1)!;
    expect(String((sent.body as any).to)).toBe(`+${waId}`);
    // The outbox finds the message again by a keyed hash of Meta's id, never the id itself.
    expect(out!.graphKey).toMatch(/^g_/);
    expect(JSON.stringify(out)).not.toContain(sent.messageId!);
    h.clock.advance(60_000);
    const failedAt = seconds();
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
                metadata: { phone_number_id: '200000000000002' },
                statuses: [
                  {
                    id: sent.messageId,
                    status: 'failed',
                    timestamp: String(failedAt),
                    recipient_id: waId,
                    errors: [{ code: 131050, title: 'stopped marketing' }],
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    expect(h.newReplies(waId)).toEqual([]);
    const s = await h.deps.models.Subscriber.findOne({ key: token(waId) }).lean();
    expect(s!.consent).toBe('opted_out');
    expect(await h.deps.models.Consent.findOne({ subscriberId: s!._id, action: 'withdraw' }).lean()).toMatchObject({
      source: 'meta_131050',
      at: new Date(failedAt * 1000),
    });
    expect(await h.deps.models.Outbox.findById(out!._id).lean()).toMatchObject({ state: 'failed', error: { code: 131050 } });
  });
});

describe('identities', () => {
  it('a changed number moves the subscriber, with history and consent, to the new number', async () => {
    await h.say('15550002222', 'START', { name: 'Dana' });
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
                metadata: { phone_number_id: '200000000000002' },
                messages: [
                  {
                    from: '15550002222',
                    id: wamid('15550002222'),
                    timestamp: String(Math.floor(h.clock.now().getTime() / 1000)),
                    type: 'system',
                    system: { body: 'changed', wa_id: '15550003333', type: 'user_changed_number' },
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    expect(await h.deps.models.Subscriber.countDocuments({ key: token('15550002222') })).toBe(0);
    const moved = await h.deps.models.Subscriber.findOne({ key: token('15550003333') }).lean();
    expect(moved).toMatchObject({ consent: 'opted_in' });
    expect(h.deps.pii.decrypt(moved!.waIdEnc!, at('subscribers', 'waIdEnc', moved!._id))).toBe('15550003333');
    const replies = await h.say('15550003333', 'STATUS');
    expect(bodyText(replies[0])).toContain('Marketing messages: on');
  });

  it('a username user without a wa_id is keyed by the business-scoped id and answered through `recipient`', async () => {
    const { raw, signature } = wireFixture('inbound_text_bsuid_username_user');
    h.clock.set(new Date(1790000013 * 1000 + 5000)); // Meta's timestamp: inside the 24-hour window
    await request(h.app).post('/webhook').set('content-type', 'application/json').set('x-hub-signature-256', signature).send(raw).expect(200);
    await h.workers.drain();
    const sent = h.fake.delivered().map((r) => r.body as any);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ recipient: 'US.13491208655302741918', type: 'interactive' });
    expect(sent[0].to).toBeUndefined();
    const s = await h.deps.models.Subscriber.findOne({ bsuidKey: h.deps.pii.blindIndex('bsuid:US.13491208655302741918') }).lean();
    expect(s).toMatchObject({ waIdEnc: null, pending: { kind: 'erasure' } });
  });
});
