import path from 'node:path';
import { LOCALES, type BuiltInLocale, type Locale } from '../i18n/locales';
import { INTENTS, type Intent } from './intents';
import { normalise } from './normalise';
import { readKeywordPack, type KeywordOverride, type PackList } from './readKeywordPack';
import { compilePattern, firstWords, type Pattern } from './sentencePattern';

/** A pattern that, inside a message, hints at an opt-out, and the languages it belongs to. */
export interface Cue {
  readonly pattern: Pattern;
  readonly locales: readonly Locale[];
}

export interface Meaning {
  readonly locale: Locale;
  readonly intent: Intent;
}

/** Every locale's keyword pack, as look-up tables for recognise(). */
export interface KeywordPacks {
  /** The languages the bot speaks, ours then the deployer's (i18n/localeOverrides.ts). */
  readonly locales: readonly Locale[];
  /** Every pack's lists, normalised, as loaded (for inspection and tests). */
  readonly lists: Readonly<Record<Locale, Readonly<Record<PackList, readonly string[]>>>>;
  /** Whole-message phrase → what it means in each language that lists it, in LOCALES order. */
  readonly phrases: ReadonlyMap<string, readonly Meaning[]>;
  /**
   * What, inside a longer message, suggests the sender wants to opt out (multi-word opt-out phrases,
   * ambiguous phrases, opt_out_patterns), indexed by every word a match can start with.
   */
  readonly cues: ReadonlyMap<string, readonly Cue[]>;
  /** not_opt_out patterns of every language, indexed the same way: where they match, no cue starts. */
  readonly notOptOut: ReadonlyMap<string, readonly Pattern[]>;
  /** Filler phrase → the languages that list it (a greeting tells the language of a message nothing else recognises). */
  readonly fillerLocales: ReadonlyMap<string, readonly Locale[]>;
  /** Filler phrases of every language, grouped by word count so stripping is a few set look-ups. */
  readonly fillers: ReadonlyMap<number, ReadonlySet<string>>;
  /** Language names and codes → the language they name. */
  readonly languageNames: ReadonlyMap<string, Locale>;
  readonly longestPhrase: number;
  readonly longestFiller: number;
}

// What a subscriber may write to pick a language: its own name, its name in the other five languages,
// and its code. Kept here rather than in the packs because the answer is the language named, not the
// language the name is written in.
const LANGUAGE_NAMES: Record<BuiltInLocale, readonly string[]> = {
  en: ['en', 'english', 'inglés', 'inglês', 'anglais', 'englisch', 'inggris', 'bahasa inggris'],
  es: ['es', 'español', 'spanish', 'castellano', 'espanhol', 'espagnol', 'spanisch', 'spanyol', 'bahasa spanyol'],
  pt: ['pt', 'português', 'portuguese', 'portugués', 'portugais', 'portugiesisch', 'portugis', 'bahasa portugis'],
  fr: ['fr', 'français', 'french', 'francés', 'francês', 'französisch', 'prancis', 'bahasa prancis'],
  de: ['de', 'deutsch', 'german', 'alemán', 'alemão', 'allemand', 'jerman', 'bahasa jerman'],
  id: ['id', 'bahasa indonesia', 'indonesia', 'indonesian', 'indonesio', 'indonésio', 'indonésien', 'indonesisch'],
};

const DEFAULT_LOCALES_DIR = path.resolve(__dirname, '..', '..', 'locales');

/**
 * Reads locales/<lng>/keywords.json for every locale and precomputes the look-up tables, so that
 * recognising a message costs a handful of map look-ups per word. Throws naming the file on any problem:
 * a broken pack must stop start-up, not silently ignore STOP.
 */
export function loadKeywordPacks(
  localesDir: string = DEFAULT_LOCALES_DIR,
  { keywords: overrides = {}, added = [] }: { keywords?: Partial<Record<Locale, KeywordOverride>>; added?: readonly AddedLanguage[] } = {},
): KeywordPacks {
  const locales: Locale[] = [...LOCALES, ...added.map((a) => a.locale)];
  const lists = {} as Record<Locale, Record<PackList, string[]>>;
  for (const locale of locales) lists[locale] = readKeywordPack(path.join(localesDir, locale, 'keywords.json'), overrides[locale]);

  const phrases = new Map<string, Meaning[]>();
  const cueLocales = new Map<string, Locale[]>();
  const exclusions = new Set<string>();
  const fillers = new Map<number, Set<string>>();
  const fillerLocales = new Map<string, Locale[]>();
  for (const locale of locales) {
    const pack = lists[locale];
    for (const intent of INTENTS) {
      for (const phrase of pack[intent]) addOnce(phrases, phrase, { locale, intent }, (m) => m.locale === locale);
    }
    // Single words that are only in opt_out ("end", "quit") are ordinary in conversation; a longer
    // opt-out phrase, a word the pack marks ambiguous or an opt-out sentence pattern is a real hint.
    // A plain phrase is a pattern without gaps or choices, so all three are matched the same way.
    const cues = [...pack.ambiguous, ...pack.opt_out.filter((phrase) => phrase.includes(' ')), ...pack.opt_out_patterns];
    for (const cue of cues) addOnce(cueLocales, cue, locale, (l) => l === locale);
    for (const pattern of pack.not_opt_out) exclusions.add(pattern);
    for (const filler of pack.fillers) {
      addOnce(fillerLocales, filler, locale, (l) => l === locale);
      const words = wordCount(filler);
      fillers.set(words, (fillers.get(words) ?? new Set()).add(filler));
    }
  }

  // The preferred language may choose the reply's language, never the action: a phrase that two
  // languages list must mean the same in both (test/chat/locales.test.ts holds ours to it; a
  // deployer's override is held to it here, at start).
  for (const [phrase, meanings] of phrases) {
    const other = meanings.find((m) => m.intent !== meanings[0].intent);
    if (!other) continue;
    const by = meanings.find((m) => overrides[m.locale]) ?? meanings[0];
    const file = overrides[by.locale]?.file ?? path.join(localesDir, by.locale, 'keywords.json');
    throw new Error(`${file}: "${phrase}" means ${meanings[0].intent} in ${meanings[0].locale} but ${other.intent} in ${other.locale}`);
  }

  const languageNames = new Map<string, Locale>();
  for (const locale of LOCALES) for (const name of LANGUAGE_NAMES[locale]) languageNames.set(normalise(name), locale);
  for (const a of added) addLanguageNames(languageNames, phrases, fillers, a);

  const cues = new Map<string, Cue[]>();
  for (const [source, locales] of cueLocales) {
    const pattern = compilePattern(source);
    for (const word of firstWords(pattern)) addOnce(cues, word, { pattern, locales }, (c) => c.pattern.source === source);
  }
  const notOptOut = new Map<string, Pattern[]>();
  for (const source of exclusions) {
    const pattern = compilePattern(source);
    for (const word of firstWords(pattern)) addOnce(notOptOut, word, pattern, (p) => p.source === source);
  }

  return {
    locales,
    lists,
    phrases,
    cues,
    notOptOut,
    fillers,
    fillerLocales,
    languageNames,
    longestPhrase: Math.max(...[...phrases.keys(), ...languageNames.keys()].map(wordCount)),
    longestFiller: Math.max(...fillers.keys()),
  };
}

function addOnce<T>(map: Map<string, T[]>, key: string, value: T, isSame: (existing: T) => boolean): void {
  const existing = map.get(key);
  if (!existing) map.set(key, [value]);
  else if (!existing.some(isSame)) existing.push(value);
}

function wordCount(phrase: string): number {
  return phrase.split(' ').length;
}

/** A language a deployer adds (i18n/localeOverrides.ts reads and checks its file). */
interface AddedLanguage {
  locale: Locale;
  name: string;
  names: readonly string[];
  file: string;
}

/**
 * A new language's own name and the names people may write for it: each must pick it alone. Its
 * bare code is not one of them: "hi" (Hindi) or "no" (Norwegian) are words people write for other
 * reasons; our codes are listed because none of them is.
 */
function addLanguageNames(
  languageNames: Map<string, Locale>,
  phrases: ReadonlyMap<string, readonly Meaning[]>,
  fillers: ReadonlyMap<number, ReadonlySet<string>>,
  a: AddedLanguage,
): void {
  for (const written of [a.name, ...a.names]) {
    const name = normalise(written);
    if (!name) throw new Error(`${a.file}: language: "${written}" has no letters or digits`);
    const other = languageNames.get(name);
    if (other !== undefined && other !== a.locale) throw new Error(`${a.file}: language: "${written}" already names ${other}`);
    // A name that is also a keyword or a polite filler would make a message mean two things.
    const meaning = phrases.get(name)?.[0];
    if (meaning) throw new Error(`${a.file}: language: "${written}" is a keyword (${meaning.intent} in ${meaning.locale})`);
    if (fillers.get(wordCount(name))?.has(name)) throw new Error(`${a.file}: language: "${written}" is a filler word ("please", "hi") in some language`);
    languageNames.set(name, a.locale);
  }
}
