import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadKeywordPacks } from '../../src/chat/keywordPacks';
import { type Recognition, recognise } from '../../src/chat/recognise';
import type { Locale } from '../../src/i18n/locales';

/**
 * Opt-out sentences as data: opt_out_patterns (with gaps, choices and word sets) hint at an opt-out
 * inside a message, not_opt_out patterns say where an opt-out word means something else, and a
 * broken pack stops start-up naming its file.
 */
const LOCALES_DIR = path.resolve(__dirname, '..', '..', 'locales');
const packs = loadKeywordPacks();
const question = (locale: Locale): Recognition => ({ kind: 'ambiguous_opt_out', locale });

describe('opt-out sentences in every language get the one clarifying question', () => {
  it.each([
    ['please stop sending me messages', 'en'],
    ['take me off your list', 'en'],
    ["I don't want these messages anymore", 'en'],
    ['ya no quiero recibir mensajes', 'es'],
    ['dejen de mandarme mensajes', 'es'],
    ['no me manden más promociones', 'es'],
    ['não quero mais receber mensagens', 'pt'],
    ['parem de me enviar promoções', 'pt'],
    ['je ne veux plus recevoir vos messages', 'fr'],
    ["arrêtez de m'envoyer des pubs", 'fr'],
    ['plus de messages svp', 'fr'],
    ['bitte keine Werbung mehr schicken', 'de'],
    ['hört auf, mir Nachrichten zu schicken', 'de'],
    ['ich möchte keine Nachrichten mehr bekommen', 'de'],
    ['jangan kirim pesan lagi', 'id'],
    ['tolong berhenti kirim promo', 'id'],
  ] as [string, Locale][])('%j asks in %s', (text, locale) => {
    expect(recognise(packs, text, [locale, 'en'])).toEqual(question(locale));
  });

  it('takes the language from the words, not from the preference, when one language explains more of them', () => {
    // "stop" alone is every language's; "stop kirim" is only Indonesian.
    expect(recognise(packs, 'stop kirim iklan', ['en'])).toEqual(question('id'));
    expect(recognise(packs, 'stop les messages svp', ['en'])).toEqual(question('fr'));
    // An equal match: the preference decides.
    expect(recognise(packs, 'can you stop this', ['fr'])).toEqual(question('fr'));
  });
});

describe('imperatives that are a STOP on their own', () => {
  it.each([
    ['ARRÊTEZ', 'fr'],
    ['arrete svp', 'fr'],
    ['Aufhören!', 'de'],
    ['hör auf', 'de'],
    ['Hören Sie auf bitte', 'de'],
    ['UNREG', 'id'],
    ['unsubscribe', 'id'],
  ] as [string, Locale][])('%j opts out at once in %s', (text, locale) => {
    expect(recognise(packs, text, [locale, 'en'])).toEqual({ kind: 'intent', intent: 'opt_out', locale });
  });
});

describe('sentences that mention stopping in another sense', () => {
  it.each([
    ['the bus stop is closed', 'en'],
    ["I can't stop laughing", 'en'],
    ["don't stop, I love these deals", 'en'],
    ['i want to cancel my order', 'en'],
    ['la tienda deja de abrir los lunes?', 'es'],
    ['no pares de mandarme ofertas', 'es'],
    ['não consigo parar de rir', 'pt'],
    ["ne t'arrête pas", 'fr'],
    ["l'arrêt de bus est fermé", 'fr'],
    ['hör nicht auf', 'de'],
    ['ich kann nicht aufhören zu lachen', 'de'],
    ['habt ihr keine Größe M mehr?', 'de'],
    ['jangan berhenti kirim promo ya', 'id'],
    ['jangan lupa kirim pesanan saya', 'id'],
  ] as [string, Locale][])('%j (%s) is not read as an opt-out', (text, locale) => {
    expect(recognise(packs, text, [locale, 'en'])).toMatchObject({ kind: 'unknown' });
  });

  it('an exception hides only the opt-out words it covers: a later STOP still counts', () => {
    expect(recognise(packs, "don't stop. actually no, stop sending me messages", ['en'])).toEqual(question('en'));
  });

  it('an exception ends at a comma, so "don\'t, stop" is still a stop', () => {
    expect(recognise(packs, "don't stop", ['en'])).toMatchObject({ kind: 'unknown' });
    expect(recognise(packs, "don't, stop sending me messages", ['en'])).toEqual(question('en'));
  });
});

// Packs with one test language changed, to pin down the pattern syntax on made-up words.
describe('pattern syntax', () => {
  let dir: string;
  const withPatterns = (patterns: string[], wordSets: string[] = []) => {
    const file = path.join(dir, 'en', 'keywords.json');
    const pack = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string[]>;
    writeFileSync(file, JSON.stringify({ ...pack, opt_out_patterns: [...pack.opt_out_patterns, ...patterns], word_sets: [...pack.word_sets, ...wordSets] }));
    return loadKeywordPacks(dir);
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'patterns-test-'));
    cpSync(LOCALES_DIR, dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a gap spans 0 to 3 words, within one sentence', () => {
    const p = withPatterns(['zorp * blix']);
    const asks = (text: string) => recognise(p, text).kind === 'ambiguous_opt_out';
    expect(asks('zorp blix')).toBe(true);
    expect(asks('zorp one two three blix')).toBe(true);
    expect(asks('zorp one two three four blix')).toBe(false);
    expect(asks('zorp. blix')).toBe(false);
    expect(asks('zorp, blix')).toBe(true);
  });

  it('a|b chooses one word or, joined by _ or an apostrophe, several; @name is a word set', () => {
    const p = withPatterns(['zorp|frob_nitz @things', "qu'ux glim"], ['@things = blix|blax']);
    const asks = (text: string) => recognise(p, text).kind === 'ambiguous_opt_out';
    expect(asks('zorp blax')).toBe(true);
    expect(asks('frob nitz blix')).toBe(true);
    expect(asks('frob blix')).toBe(false);
    expect(asks("QU'UX GLIM!")).toBe(true);
  });

  it('^ matches only at the start of a clause', () => {
    const p = withPatterns(['^ zorp blix']);
    expect(recognise(p, 'zorp blix').kind).toBe('ambiguous_opt_out');
    expect(recognise(p, 'well, zorp blix').kind).toBe('ambiguous_opt_out');
    expect(recognise(p, 'well zorp blix').kind).toBe('unknown');
  });
});

describe('loadKeywordPacks refuses a broken pattern or word set, naming the file', () => {
  let dir: string;
  let file: string;
  type Pack = Record<string, string[]>;
  const load = (change: Pack | ((pack: Pack) => Pack)) => {
    const pack = JSON.parse(readFileSync(file, 'utf8')) as Pack;
    writeFileSync(file, JSON.stringify({ ...pack, ...(typeof change === 'function' ? change(pack) : change) }));
    return () => loadKeywordPacks(dir);
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'patterns-bad-'));
    cpSync(LOCALES_DIR, dir, { recursive: true });
    file = path.join(dir, 'de', 'keywords.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['a pattern that begins with a gap', { opt_out_patterns: ['* mehr'] }, 'may not begin with a gap'],
    ['a pattern that ends with a gap', { not_opt_out: ['keine *'] }, 'may not end with a gap'],
    ['two gaps in a row', { opt_out_patterns: ['keine * * mehr'] }, 'two gaps'],
    ['a gap inside a word', { opt_out_patterns: ['kei* mehr'] }, 'must stand alone'],
    ['an anchor that is not first', { opt_out_patterns: ['keine ^ mehr'] }, 'may only begin it'],
    ['an empty choice', { opt_out_patterns: ['keine a||b mehr'] }, 'empty choice'],
    ['only gaps and anchors', { opt_out_patterns: ['^'] }, 'no words'],
    ['an unknown word set', { opt_out_patterns: ['keine @nope mehr'] }, 'does not define'],
    ['a word set without a name', { word_sets: ['send = schicken'] }, '"@name = a|b|c"'],
    ['a word set defined twice', { word_sets: ['@send = a', '@send = b'] }, 'defined twice'],
    ['a word set holding a gap', { word_sets: ['@send = a|*'] }, 'words only'],
    ['a word set no pattern uses', (pack: Pack) => ({ word_sets: [...pack.word_sets, '@unused = a|b'] }), 'defines @unused'],
    ['pattern syntax in a phrase list', { ambiguous: ['keine * mehr'] }, 'uses pattern syntax'],
    ['an unknown list', { opt_out_sentences: ['keine * mehr'] }, 'unknown lists: opt_out_sentences'],
    ['a missing list', { not_opt_out: [] }, '"not_opt_out" must be a non-empty list'],
  ] as [string, Pack | ((pack: Pack) => Pack), string][])('%s', (_, change, message) => {
    const loading = load(change);
    expect(loading).toThrow(file);
    expect(loading).toThrow(message);
  });
});
