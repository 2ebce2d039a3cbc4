import { at } from '../../src/privacy/pii';
import { sweepRetention } from '../../src/maintenance/sweepRetention';
import { openExportContent } from '../../src/rights/exportFiles';
import { createChatHarness, type ChatHarness } from '../support/chat';
import { META_DOCUMENT_TYPES, type RecordedUpload } from '../support/fakeGraph';
import { pdfText } from '../support/pdf';

/**
 * MY DATA's two documents as a person gets them: the PDF read back with pdf.js (what a viewer
 * shows), the JSON parsed, both taken from what the fake Graph API received as uploads.
 */
let h: ChatHarness;
beforeEach(async () => {
  h = await createChatHarness('mydatapdf');
});
afterEach(() => h.close());

const OTHER = '15550009990';
const OTHER_NAME = 'Olaf Otherperson';
const OTHER_TEXT = 'a secret of somebody else, Ölfass 4711';

/** The PDF and the JSON uploaded for the last MY DATA, checked to be on WhatsApp's document list. */
function lastExport(): { pdf: RecordedUpload; json: any } {
  const ups = h.fake.uploads().slice(-2);
  expect(ups.map((u) => [u.type, u.fileType])).toEqual([
    ['application/pdf', 'application/pdf'],
    ['text/plain', 'text/plain'],
  ]);
  for (const u of ups) expect(META_DOCUMENT_TYPES).toContain(u.fileType);
  return { pdf: ups[0], json: JSON.parse(ups[1].bytes.toString('utf8')) };
}

describe.each([
  { locale: 'en', keyword: 'MY DATA', name: 'Dévi Ñandú', said: ['Straße and São João', 'Çà et là, a naïve café'] },
  { locale: 'es', keyword: 'MIS DATOS', name: 'Ñandú Peña', said: ['¿Dónde está mi pedido? La cigüeña', 'São João y la Straße'] },
  { locale: 'pt', keyword: 'MEUS DADOS', name: 'João da Conceição', said: ['São João, coração e pão', 'Çà et là com Ñandú'] },
  { locale: 'fr', keyword: 'MES DONNÉES', name: 'Françoise Dévi', said: ['Çà et là, où est ma commande ?', 'Une œuvre de Noël, Straße'] },
  { locale: 'de', keyword: 'MEINE DATEN', name: 'Jürgen Straße', said: ['Größe und Übermaß, bitte', 'Ñandú in São João'] },
  { locale: 'id', keyword: 'DATA SAYA', name: 'Dévi Ñandú', said: ['Terima kasih, Çà et là', 'São João dan Straße'] },
])('MY DATA in $locale', ({ locale, keyword, name, said }) => {
  it('sends a PDF in that language that shows every character, then JSON with every message of that person only', async () => {
    const waId = '15550009001';
    await h.say(OTHER, OTHER_TEXT, { name: OTHER_NAME });
    for (const text of said) await h.say(waId, text, { name });
    const replies = await h.say(waId, keyword, { name });
    expect(replies.map((r) => r.type)).toEqual(['text', 'document', 'document']);
    const { pdf, json } = lastExport();

    const read = await pdfText(pdf.bytes);
    // Every character drawn: nothing replaced, no glyph-less code.
    expect(read.text).not.toContain('\u0000');
    expect(read.text).not.toContain('\uFFFD');
    expect(read.info).toMatchObject({ Title: h.t(locale, 'myData.pdf.title') });
    const messages = json.messages.length;
    for (const expected of [
      h.t(locale, 'myData.pdf.title'),
      h.t(locale, 'myData.pdf.summary'),
      h.t(locale, 'myData.pdf.consent'),
      h.t(locale, 'myData.pdf.requests'),
      h.t(locale, 'myData.pdf.messages', { total: messages }),
      h.t(locale, 'myData.pdf.processing'),
      h.t(locale, 'language.name'),
      h.t(locale, 'status.types.access'),
      h.t(locale, 'myData.pdf.from.you'),
      `+${waId}`,
      name,
      ...said,
      keyword,
    ]) {
      expect(read.text).toContain(expected);
    }

    expect(json).toMatchObject({ schemaVersion: 1, subject: { whatsappNumber: `+${waId}`, profileName: name, language: locale } });
    expect(json.messages.filter((m: any) => m.direction === 'in').map((m: any) => m.text)).toEqual([...said, keyword]);
    // Every message held for them when the export was made: all of theirs but the three replies to it.
    const s = await h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${waId}`) }).lean();
    expect(messages).toBe((await h.deps.models.Message.countDocuments({ subscriberId: s!._id })) - 3);
    for (const whole of [read.text, JSON.stringify(json)]) {
      expect(whole).not.toContain(OTHER);
      expect(whole).not.toContain(OTHER_NAME);
      expect(whole).not.toContain(OTHER_TEXT);
    }
  });
});

describe('MY DATA for names and messages in other scripts and emoji', () => {
  it('still sends both documents: the PDF shows what its font can and marks the rest, the JSON keeps every character', async () => {
    const waId = '15550009002';
    const name = 'Zoë 🦩 王小明';
    const said = ['Ñandú 👍🏽 你好 — Привет, Γειά σου, שלום', '👨‍👩‍👧 🎉🎉', 'línea uno\nline two\ttabbed \u0007bell'];
    for (const text of said) await h.say(waId, text, { name });
    expect((await h.say(waId, 'MY DATA', { name })).map((r) => r.type)).toEqual(['text', 'document', 'document']);
    const { pdf, json } = lastExport();

    const read = await pdfText(pdf.bytes);
    expect(read.text).not.toContain('\u0000');
    for (const shown of ['Zoë', 'Ñandú', 'Привет, Γειά σου', 'שלום', 'línea uno', 'line two', 'tabbed']) expect(read.text).toContain(shown);
    expect(read.text).toContain('\uFFFD'); // 王小明, 你好, 👍🏽, 👨‍👩‍👧 and 🎉 have no glyph in the font
    expect(read.text).toContain(h.t('en', 'myData.pdf.unshown', { mark: '\uFFFD' }).slice(0, 40));
    expect(json.subject.profileName).toBe(name);
    expect(json.messages.filter((m: any) => m.direction === 'in').map((m: any) => m.text)).toEqual([...said, 'MY DATA']);
  });
});

describe('a long MY DATA', () => {
  it('runs over several numbered pages and holds every message', async () => {
    const waId = '15550009003';
    const said = Array.from({ length: 70 }, (_, i) => `message number ${i} with Straße, São João and Ñandú`);
    for (const text of said) await h.say(waId, text, { name: 'Long Talker' });
    await h.say(waId, 'MY DATA', { name: 'Long Talker' });
    const { pdf, json } = lastExport();
    const read = await pdfText(pdf.bytes);
    expect(read.pages.length).toBeGreaterThan(2);
    read.pages.forEach((page, i) => expect(page).toContain(h.t('en', 'myData.pdf.page', { page: i + 1, pages: read.pages.length })));
    for (const text of said) expect(read.text).toContain(text);
    expect(json.messages.filter((m: any) => m.direction === 'in').map((m: any) => m.text)).toEqual([...said, 'MY DATA']);
  });
});

describe('the stored export', () => {
  it('is two sealed documents, each bound to its place, that expire after 7 days', async () => {
    const waId = '15550009004';
    await h.say(waId, 'MY DATA', { name: 'Sealed Person' });
    const s = await h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${waId}`) }).lean();
    const exps = await h.deps.models.Export.find({ subscriberId: s!._id }).lean();
    expect(exps).toHaveLength(2);
    const formats = exps.map((e) => {
      expect(e.expiresAt).toEqual(new Date(e.createdAt.getTime() + 7 * 86_400_000));
      expect(JSON.stringify(e)).not.toContain('Sealed Person');
      expect(JSON.stringify(e)).not.toContain(waId);
      return openExportContent(h.deps.pii.decrypt(e.contentEnc, at('exports', 'contentEnc', e._id))).format;
    });
    expect(formats.sort()).toEqual(['json', 'pdf']);
    // A sealed file copied into the other export does not open there.
    expect(() => h.deps.pii.decrypt(exps[0].contentEnc, at('exports', 'contentEnc', exps[1]._id))).toThrow();
    // What was uploaded is what was stored.
    const uploaded = h.fake.uploads().map((u) => u.bytes.toString('base64'));
    for (const e of exps)
      expect(uploaded).toContain(openExportContent(h.deps.pii.decrypt(e.contentEnc, at('exports', 'contentEnc', e._id))).bytes.toString('base64'));

    h.clock.advance(7 * 86_400_000 - 1000);
    await sweepRetention(h.deps);
    expect(await h.deps.models.Export.countDocuments({ subscriberId: s!._id })).toBe(2);
    h.clock.advance(2000);
    await sweepRetention(h.deps);
    expect(await h.deps.models.Export.countDocuments({ subscriberId: s!._id })).toBe(0);
  });

  it('is deleted with both uploads at Meta when the person is erased', async () => {
    const waId = '15550009005';
    await h.say(waId, 'MY DATA', { name: 'Gone Soon' });
    const s = await h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${waId}`) }).lean();
    expect(await h.deps.models.Export.countDocuments({ subscriberId: s!._id })).toBe(2);
    expect(h.fake.media.size).toBe(2);
    await h.say(waId, 'DELETE');
    await h.press(waId, 'erase.yes');
    await h.workers.drain();
    expect(await h.deps.models.Export.countDocuments({ subscriberId: s!._id })).toBe(0);
    expect(h.fake.media.size).toBe(0);
  });
});
