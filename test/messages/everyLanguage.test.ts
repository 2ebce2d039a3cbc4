import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadKeywordPacks } from '../../src/chat/keywordPacks';
import { recognise } from '../../src/chat/recognise';
import type { Intent } from '../../src/chat/intents';
import { LOCALES, type Locale } from '../../src/i18n/locales';
import { at } from '../../src/privacy/pii';
import { bodyText, createChatHarness, type ChatHarness } from '../support/chat';
import { envelope, messagesChange } from '../support/whatsapp';
import { metaProblems } from './metaLimits';

/**
 * Every flow in every language, through the whole product (signed webhook, inbox, use case, outbox,
 * Graph client, the fake Graph API on loopback). Every body the fake received is checked against
 * Meta's limits (metaLimits.ts), and every reply is also in the conversation staff see.
 */
const TEMPLATE = 'privacy_update';
const packs = loadKeywordPacks();
let h: ChatHarness;

beforeAll(async () => {
  h = await createChatHarness('everylanguage', { env: { UTILITY_TEMPLATE_NAME: TEMPLATE } });
});
afterAll(() => h.close());

/** A number of a country that reads the locale (chat/countryLocale.ts), as a person there would write from. */
const SAMPLE_NUMBER: Record<Locale, string> = {
  en: '447911123456',
  es: '34612345678',
  pt: '5511987654321',
  fr: '33612345678',
  de: '4915112345678',
  id: '6281234567890',
};
let serial = 10;
const numberIn = (locale: Locale) => `${SAMPLE_NUMBER[locale].slice(0, -2)}${++serial}`;

/** The first phrase of the locale's pack that means `intent` in that locale for someone from there. */
function phrase(locale: Locale, intent: Intent): string {
  const words: string[] = JSON.parse(readFileSync(path.resolve(__dirname, '../../locales', locale, 'keywords.json'), 'utf8'))[intent];
  const found = words.find((w) => {
    const r = recognise(packs, w, [locale, 'en']);
    return r.kind === 'intent' && r.intent === intent && r.locale === locale;
  });
  if (!found) throw new Error(`no ${intent} phrase of ${locale}'s own`);
  return found;
}

/** A sentence of the locale's corpus that might be an opt-out: the bot asks. */
function uncertainOptOut(locale: Locale): string {
  const corpus: { text: string }[] = JSON.parse(readFileSync(path.resolve(__dirname, '../chat/corpus', `${locale}.json`), 'utf8'));
  const found = corpus.find((s) => {
    const r = recognise(packs, s.text, [locale, 'en']);
    return r.kind === 'ambiguous_opt_out' && r.locale === locale;
  });
  if (!found) throw new Error(`no uncertain opt-out sentence in ${locale}`);
  return found.text;
}

/** Sent as translated, or cut to a limit with an ellipsis. */
const shownAs = (sent: string, translated: string) => sent === translated || (sent.endsWith('…') && translated.startsWith(sent.slice(0, -1).trimEnd()));

/** Each reply within Meta's limits, and in the conversation staff see, as sent. */
async function check(replies: Record<string, any>[]): Promise<Record<string, any>[]> {
  for (const b of replies) {
    expect({ body: b, problems: metaProblems(b) }).toEqual({ body: b, problems: [] });
    const line = await h.deps.models.Message.findById(b.biz_opaque_callback_data).lean();
    expect(line).toMatchObject({ direction: 'out', status: 'sent' });
    const shown = h.deps.pii.decrypt(line!.textEnc!, at('messages', 'textEnc', line!._id));
    if (b.type !== 'template') expect(shown).toContain(bodyText(b));
  }
  return replies;
}

const subscriber = (waId: string) => h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${waId}`) }).lean();
const ts = (offsetSeconds = 0) => String(Math.floor(h.clock.now().getTime() / 1000) + offsetSeconds);
const buttonsOf = (b: Record<string, any>) => b.interactive.action.buttons.map((x: any) => x.reply);
const rowsOf = (b: Record<string, any>) => b.interactive.action.sections.flatMap((s: any) => s.rows);

describe.each(LOCALES)('in %s', (locale) => {
  const t = (key: string, params?: Record<string, unknown>) => h.t(locale, key, params);

  it('HELP (a list), its rows, STATUS, LANGUAGE (a list), STOP, START and an unknown message', async () => {
    const waId = numberIn(locale);

    const [menu, ...more] = await check(await h.say(waId, phrase(locale, 'help')));
    expect(more).toEqual([]);
    expect(menu.interactive.type).toBe('list');
    expect(menu.interactive.body.text).toBe(t('help.body'));
    expect(rowsOf(menu).map((r: any) => r.id)).toEqual(['help.stop', 'help.start', 'help.my_data', 'help.delete', 'help.status', 'help.language']);
    expect(shownAs(rowsOf(menu)[2].title, t('help.myData.title'))).toBe(true);
    expect(shownAs(rowsOf(menu)[2].description, t('help.myData.description'))).toBe(true);
    expect(shownAs(menu.interactive.action.button, t('help.button'))).toBe(true);

    const status = await check(await h.say(waId, phrase(locale, 'status')));
    expect(status.map((b) => b.type)).toEqual(['text']);
    // The menu's row does the same as the word.
    const tapped = await check(await h.press(waId, 'help.status', rowsOf(menu)[4].title));
    expect(tapped.map(bodyText)).toEqual(status.map(bodyText));

    const [languages] = await check(await h.say(waId, phrase(locale, 'language')));
    expect(languages.interactive.type).toBe('list');
    expect(languages.interactive.body.text).toBe(t('language.ask'));
    expect(rowsOf(languages).map((r: any) => r.id)).toEqual(LOCALES.map((l) => `lang.${l}`));
    const chosen = rowsOf(languages).find((r: any) => r.id === `lang.${locale}`);
    expect((await check(await h.press(waId, chosen.id, chosen.title))).map(bodyText)).toEqual([t('language.changed')]);

    expect((await check(await h.say(waId, phrase(locale, 'opt_out')))).map(bodyText)).toEqual([t('optOut.confirmed')]);
    expect((await check(await h.say(waId, phrase(locale, 'opt_in')))).map(bodyText)).toEqual([t('optIn.confirmed')]);
    expect(await check(await h.say(waId, 'qwxz vlorp 4471'))).toEqual([expect.objectContaining({ type: 'text', text: { body: t('hint.unknown') } })]);
    expect(await subscriber(waId)).toMatchObject({ locale, consent: 'opted_in' });
  });

  it('an uncertain opt-out is one question with two buttons; its Yes opts out', async () => {
    const waId = numberIn(locale);
    const [q, ...more] = await check(await h.say(waId, uncertainOptOut(locale)));
    expect(more).toEqual([]);
    expect(q.interactive.type).toBe('button');
    expect(q.interactive.body.text).toBe(t('optOut.question'));
    const [yes, no] = buttonsOf(q);
    expect(shownAs(yes.title, t('optOut.questionYes'))).toBe(true);
    expect(shownAs(no.title, t('optOut.questionNo'))).toBe(true);
    expect((await check(await h.press(waId, 'optout.yes'))).map(bodyText)).toEqual([t('optOut.confirmed')]);
    expect(await subscriber(waId)).toMatchObject({ locale, consent: 'opted_out' });
  });

  it('MY DATA: a summary, then the PDF and the JSON as documents with captions', async () => {
    const waId = numberIn(locale);
    const replies = await check(await h.say(waId, phrase(locale, 'my_data')));
    expect(replies.map((b) => b.type)).toEqual(['text', 'document', 'document']);
    const [, pdf, json] = replies;
    expect(shownAs(pdf.document.caption, t('myData.documentPdf'))).toBe(true);
    expect(shownAs(json.document.caption, t('myData.document'))).toBe(true);
    expect([pdf.document.filename, json.document.filename]).toEqual([expect.stringMatching(/\.pdf$/), expect.stringMatching(/\.txt$|\.json$/)]);
    expect(h.fake.media.size).toBeGreaterThan(0);
  });

  it('DELETE asks; Cancel keeps everything; DELETE again and Yes erases', async () => {
    const waId = numberIn(locale);
    const [q] = await check(await h.say(waId, phrase(locale, 'delete')));
    expect(q.interactive.body.text).toBe(t('erase.question'));
    const [yes, no] = buttonsOf(q);
    expect(shownAs(yes.title, t('erase.yes'))).toBe(true);
    expect(shownAs(no.title, t('erase.no'))).toBe(true);
    expect((await check(await h.press(waId, 'erase.no'))).map(bodyText)).toEqual([t('erase.cancelled')]);
    expect(await subscriber(waId)).toMatchObject({ locale, pending: null });

    const [again] = await check(await h.say(waId, phrase(locale, 'delete')));
    expect(again.interactive.body.text).toBe(t('erase.question'));
    // The confirmation is sent after the person is gone: nothing of them, its line included, stays.
    const done = await h.press(waId, 'erase.yes');
    expect(done).toHaveLength(1);
    expect(metaProblems(done[0])).toEqual([]);
    const [before, after] = t('erase.done', { ref: '\u0000' }).split('\u0000');
    expect(bodyText(done[0]).startsWith(before) && bodyText(done[0]).endsWith(after)).toBe(true);
    expect(await subscriber(waId)).toBeNull();
  });

  it('a STOP that arrives after its 24-hour window is confirmed with the utility template, in the language', async () => {
    const waId = numberIn(locale);
    await h.post(envelope(messagesChange({ waId }, [{ type: 'text', timestamp: ts(-30 * 3600), text: { body: phrase(locale, 'opt_out') } }])));
    const sent = await check(h.newReplies(waId));
    expect(sent).toEqual([
      expect.objectContaining({ type: 'template', template: expect.objectContaining({ name: TEMPLATE, language: expect.objectContaining({ code: locale }) }) }),
    ]);
    expect(await subscriber(waId)).toMatchObject({ locale, consent: 'opted_out' });
  });
});

it('every message the Graph API received, in every language, is within Meta limits', () => {
  const sent = h.fake.delivered().map((r) => r.body as Record<string, any>);
  // 8 + 2 + 3 + 4 + 1 messages per language, as the flows above count them.
  expect(sent).toHaveLength(LOCALES.length * 18);
  expect(new Set(sent.map((b) => b.type))).toEqual(new Set(['text', 'interactive', 'document', 'template']));
  expect(sent.map(metaProblems).filter((p) => p.length)).toEqual([]);
});
