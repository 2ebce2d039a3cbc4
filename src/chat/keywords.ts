import { readFileSync } from 'node:fs';
import path from 'node:path';
import { normalise } from './normalise';

export type Locale = 'en' | 'es' | 'pt' | 'fr' | 'de' | 'id';
export const LOCALES: Locale[] = ['en', 'es', 'pt', 'fr', 'de', 'id'];

export type Intent = 'opt_out' | 'opt_in' | 'help' | 'my_data' | 'delete' | 'status' | 'language' | 'yes' | 'no';
export const INTENTS: readonly Intent[] = ['opt_out', 'opt_in', 'help', 'my_data', 'delete', 'status', 'language', 'yes', 'no'];

export type Recognition =
  | { kind: 'intent'; intent: Intent; locale: Locale }
  | { kind: 'ambiguous_opt_out'; locale: Locale }
  | { kind: 'language_choice'; locale: Locale }
  | { kind: 'unknown' };

/** The lists of one locales/<lng>/keywords.json, normalised. */
export type PackList = Intent | 'fillers' | 'ambiguous';
export const PACK_LISTS: readonly PackList[] = [...INTENTS, 'fillers', 'ambiguous'];

export interface KeywordPacks {
  /** Every pack's lists, normalised, as loaded (for inspection and tests). */
  readonly lists: Readonly<Record<Locale, Readonly<Record<PackList, readonly string[]>>>>;
  /** Whole-message phrase → what it means in each language that lists it, in LOCALES order. */
  readonly phrases: ReadonlyMap<string, readonly Meaning[]>;
  /** Phrases that, inside a longer message, suggest the sender wants to opt out → their languages. */
  readonly optOutCues: ReadonlyMap<string, readonly Locale[]>;
  /** Filler phrases of every language, grouped by word count so stripping is a few set look-ups. */
  readonly fillers: ReadonlyMap<number, ReadonlySet<string>>;
  /** Language names and codes → the language they name. */
  readonly languageNames: ReadonlyMap<string, Locale>;
  readonly longestPhrase: number;
  readonly longestCue: number;
  readonly longestFiller: number;
}

export interface Meaning {
  readonly locale: Locale;
  readonly intent: Intent;
}

// What a subscriber may write to pick a language: its own name, its name in the other five languages,
// and its code. Kept here rather than in the packs because the answer is the language named, not the
// language the name is written in.
const LANGUAGE_NAMES: Record<Locale, readonly string[]> = {
  en: ['en', 'english', 'inglés', 'inglês', 'anglais', 'englisch', 'inggris', 'bahasa inggris'],
  es: ['es', 'español', 'spanish', 'castellano', 'espanhol', 'espagnol', 'spanisch', 'spanyol', 'bahasa spanyol'],
  pt: ['pt', 'português', 'portuguese', 'portugués', 'portugais', 'portugiesisch', 'portugis', 'bahasa portugis'],
  fr: ['fr', 'français', 'french', 'francés', 'francês', 'französisch', 'prancis', 'bahasa prancis'],
  de: ['de', 'deutsch', 'german', 'alemán', 'alemão', 'allemand', 'jerman', 'bahasa jerman'],
  id: ['id', 'bahasa indonesia', 'indonesia', 'indonesian', 'indonesio', 'indonésio', 'indonésien', 'indonesisch'],
};

const DEFAULT_LOCALES_DIR = path.resolve(__dirname, '..', '..', 'locales');

const UNKNOWN: Recognition = { kind: 'unknown' };

/**
 * Reads locales/<lng>/keywords.json for every locale and precomputes the look-up tables, so that
 * recognising a message costs a handful of map look-ups per word. Throws naming the file on any problem:
 * a broken pack must stop start-up, not silently ignore STOP.
 */
export function loadKeywordPacks(localesDir: string = DEFAULT_LOCALES_DIR): KeywordPacks {
  const lists = {} as Record<Locale, Record<PackList, string[]>>;
  for (const locale of LOCALES) lists[locale] = readPack(path.join(localesDir, locale, 'keywords.json'));

  const phrases = new Map<string, Meaning[]>();
  const optOutCues = new Map<string, Locale[]>();
  const fillers = new Map<number, Set<string>>();
  for (const locale of LOCALES) {
    const pack = lists[locale];
    for (const intent of INTENTS) {
      for (const phrase of pack[intent]) addOnce(phrases, phrase, { locale, intent }, (m) => m.locale === locale);
    }
    // Single words that are only in opt_out ("end", "quit") are ordinary in conversation; a longer
    // opt-out phrase or a word the pack marks ambiguous is a real hint.
    const cues = [...pack.ambiguous, ...pack.opt_out.filter((phrase) => phrase.includes(' '))];
    for (const cue of cues) addOnce(optOutCues, cue, locale, (l) => l === locale);
    for (const filler of pack.fillers) {
      const words = wordCount(filler);
      fillers.set(words, (fillers.get(words) ?? new Set()).add(filler));
    }
  }

  const languageNames = new Map<string, Locale>();
  for (const locale of LOCALES) for (const name of LANGUAGE_NAMES[locale]) languageNames.set(normalise(name), locale);

  return {
    lists,
    phrases,
    optOutCues,
    fillers,
    languageNames,
    longestPhrase: Math.max(...[...phrases.keys(), ...languageNames.keys()].map(wordCount)),
    longestCue: Math.max(...[...optOutCues.keys()].map(wordCount)),
    longestFiller: Math.max(...fillers.keys()),
  };
}

/**
 * What a subscriber's message asks for. `preferred` (the subscriber's remembered locale, then the
 * deployment default) decides the locale when a phrase exists in several languages; otherwise the first
 * of LOCALES that has it wins, so a bare "stop" is English.
 */
export function recognise(packs: KeywordPacks, text: string, preferred: Locale[] = []): Recognition {
  const words = normalise(text).split(' ').filter((word) => word !== '');
  if (words.length === 0) return UNKNOWN;
  return matchWholeMessage(packs, words, preferred) ?? findOptOutCue(packs, words, preferred) ?? UNKNOWN;
}

// The message is a command if, after peeling polite words off either end ("please stop, thanks",
// "Quiero darme de baja"), exactly a keyword phrase or a language name remains.
function matchWholeMessage(packs: KeywordPacks, words: string[], preferred: Locale[]): Recognition | undefined {
  let start = 0;
  let end = words.length;
  while (start < end) {
    // Joining only short windows keeps a long message linear: no phrase is longer than longestPhrase.
    if (end - start <= packs.longestPhrase) {
      const phrase = words.slice(start, end).join(' ');
      const meanings = packs.phrases.get(phrase);
      if (meanings) {
        const locale = pickLocale(meanings.map((m) => m.locale), preferred);
        const meaning = meanings.find((m) => m.locale === locale) ?? meanings[0];
        return { kind: 'intent', intent: meaning.intent, locale: meaning.locale };
      }
      const named = packs.languageNames.get(phrase);
      if (named) return { kind: 'language_choice', locale: named };
    }
    const leading = fillerAt(packs, words, start, end, 'start');
    const trailing = leading ? 0 : fillerAt(packs, words, start, end, 'end');
    if (!leading && !trailing) return undefined;
    start += leading;
    end -= trailing;
  }
  return undefined; // nothing but polite words
}

// Word count of the longest filler at the start or end of words[start, end), or 0.
function fillerAt(packs: KeywordPacks, words: string[], start: number, end: number, side: 'start' | 'end'): number {
  for (let n = Math.min(packs.longestFiller, end - start); n > 0; n--) {
    const candidate = side === 'start' ? words.slice(start, start + n) : words.slice(end - n, end);
    if (packs.fillers.get(n)?.has(candidate.join(' '))) return n;
  }
  return 0;
}

// A sentence that mentions stopping ("can you stop sending me offers?") gets a clarifying question
// rather than an opt-out nobody asked for. Matches whole words only, so "stopwatch" is not "stop".
function findOptOutCue(packs: KeywordPacks, words: string[], preferred: Locale[]): Recognition | undefined {
  for (let i = 0; i < words.length; i++) {
    for (let n = Math.min(packs.longestCue, words.length - i); n > 0; n--) {
      const locales = packs.optOutCues.get(words.slice(i, i + n).join(' '));
      if (locales) return { kind: 'ambiguous_opt_out', locale: pickLocale(locales, preferred) };
    }
  }
  return undefined;
}

// `candidates` are in LOCALES order, so without a usable preference the earliest locale wins.
function pickLocale(candidates: readonly Locale[], preferred: readonly Locale[]): Locale {
  return preferred.find((locale) => candidates.includes(locale)) ?? candidates[0];
}

function addOnce<T>(map: Map<string, T[]>, key: string, value: T, isSame: (existing: T) => boolean): void {
  const existing = map.get(key);
  if (!existing) map.set(key, [value]);
  else if (!existing.some(isSame)) existing.push(value);
}

function wordCount(phrase: string): number {
  return phrase.split(' ').length;
}

function readPack(file: string): Record<PackList, string[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`Keyword pack ${file} cannot be read: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`Keyword pack ${file} must be a JSON object of phrase lists`);
  }
  const record = raw as Record<string, unknown>;
  const extra = Object.keys(record).filter((key) => !(PACK_LISTS as readonly string[]).includes(key));
  if (extra.length > 0) throw new Error(`Keyword pack ${file} has unknown lists: ${extra.join(', ')}`);

  const pack = {} as Record<PackList, string[]>;
  const intentOf = new Map<string, Intent>();
  for (const list of PACK_LISTS) {
    const phrases = record[list];
    if (!Array.isArray(phrases) || phrases.length === 0 || !phrases.every((p) => typeof p === 'string')) {
      throw new Error(`Keyword pack ${file}: "${list}" must be a non-empty list of strings`);
    }
    pack[list] = [...new Set(phrases.map((phrase: string) => normalise(phrase)))];
    if (pack[list].includes('')) {
      throw new Error(`Keyword pack ${file}: "${list}" has a phrase with no letters or digits`);
    }
    if (list === 'fillers' || list === 'ambiguous') continue;
    // One phrase, two meanings in one language would make the answer depend on list order.
    for (const phrase of pack[list]) {
      const other = intentOf.get(phrase);
      if (other) throw new Error(`Keyword pack ${file}: "${phrase}" is in both "${other}" and "${list}"`);
      intentOf.set(phrase, list);
    }
  }
  return pack;
}
