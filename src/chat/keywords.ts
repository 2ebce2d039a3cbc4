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

/**
 * The lists of one locales/<lng>/keywords.json, normalised:
 *  - one per intent: whole-message phrases ("stop", "darme de baja"),
 *  - fillers: polite words peeled off either end of a whole message ("please", "por favor"),
 *  - ambiguous: opt-out phrases that also hint at an opt-out inside a longer message ("stop"),
 *  - word_sets: named choices of words for the patterns of that pack ("@send = mandar|enviar|escribirme"),
 *  - opt_out_patterns: sentence patterns that hint at an opt-out inside a message ("keine * mehr"),
 *  - not_opt_out: patterns in which an opt-out word means something else ("bus stop", "no pares de").
 *
 * Pattern syntax (opt_out_patterns, not_opt_out), words separated by spaces:
 *  - a word, compared after normalise() ("mándame" is "mandame"); "m'envoyer" is the two words "m envoyer",
 *  - a|b|c: any one of the alternatives; an alternative may be several words ("don't|dont|do_not"),
 *  - @name: any word of the pack's word set @name, alone or among alternatives ("@send|llamarme"),
 *  - *: a gap of 0 to PATTERN_GAP words (never the first or last token),
 *  - ^ as the first token: the match must start a clause (the message, or after . ! ? , ; and the like).
 * A pattern matches within one sentence; a not_opt_out pattern within one clause (commas end it).
 * A word set is written "@name = a|b|c" (alternatives as in patterns, no gaps, no other sets) and must be used.
 */
export type PackList = Intent | 'fillers' | 'ambiguous' | 'word_sets' | 'opt_out_patterns' | 'not_opt_out';
export const PACK_LISTS: readonly PackList[] = [...INTENTS, 'fillers', 'ambiguous', 'word_sets', 'opt_out_patterns', 'not_opt_out'];
const PATTERN_LISTS: readonly PackList[] = ['word_sets', 'opt_out_patterns', 'not_opt_out'];

/** Most words a `*` in a pattern spans. */
export const PATTERN_GAP = 3;

/** A compiled pattern: slots (each a choice of word sequences) and gaps, in order. */
export interface Pattern {
  /** The pattern as normalised in `lists` ("keine * werbung|nachrichten * mehr"). */
  readonly source: string;
  /** Matches only at the start of a clause. */
  readonly anchored: boolean;
  readonly elements: readonly PatternElement[];
}
export type PatternElement =
  | { readonly gap: true }
  | {
      readonly gap: false;
      readonly alternatives: readonly (readonly string[])[];
      /** The one-word alternatives, for a single look-up. */
      readonly words: ReadonlySet<string>;
      /** The alternatives of several words ("do not"). */
      readonly phrases: readonly (readonly string[])[];
    };

/** A pattern that, inside a message, hints at an opt-out, and the languages it belongs to. */
export interface Cue {
  readonly pattern: Pattern;
  readonly locales: readonly Locale[];
}

export interface KeywordPacks {
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
  /** Filler phrases of every language, grouped by word count so stripping is a few set look-ups. */
  readonly fillers: ReadonlyMap<number, ReadonlySet<string>>;
  /** Language names and codes → the language they name. */
  readonly languageNames: ReadonlyMap<string, Locale>;
  readonly longestPhrase: number;
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
  const cueLocales = new Map<string, Locale[]>();
  const exclusions = new Set<string>();
  const fillers = new Map<number, Set<string>>();
  for (const locale of LOCALES) {
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
      const words = wordCount(filler);
      fillers.set(words, (fillers.get(words) ?? new Set()).add(filler));
    }
  }

  const languageNames = new Map<string, Locale>();
  for (const locale of LOCALES) for (const name of LANGUAGE_NAMES[locale]) languageNames.set(normalise(name), locale);

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
    lists,
    phrases,
    cues,
    notOptOut,
    fillers,
    languageNames,
    longestPhrase: Math.max(...[...phrases.keys(), ...languageNames.keys()].map(wordCount)),
    longestFiller: Math.max(...fillers.keys()),
  };
}

/**
 * What a subscriber's message asks for. `preferred` (the subscriber's remembered locale, then the
 * deployment default) decides the locale when a phrase exists in several languages; otherwise the first
 * of LOCALES that has it wins, so a bare "stop" is English.
 */
export function recognise(packs: KeywordPacks, text: string, preferred: Locale[] = []): Recognition {
  const message = tokenise(text);
  if (message.words.length === 0) return UNKNOWN;
  return matchWholeMessage(packs, message.words, preferred) ?? findOptOutCue(packs, message, preferred) ?? UNKNOWN;
}

/** A message's normalised words, and for each word where its sentence and its clause end. */
interface Tokens {
  readonly words: readonly string[];
  readonly sentenceEnd: readonly number[];
  readonly clauseStart: readonly number[];
  readonly clauseEnd: readonly number[];
}

// Sentences end at . ! ? ; and line breaks (and the Spanish ¡ ¿ begin one); clauses also at , : and
// brackets or quotes. Apostrophes and hyphens stay inside words ("opt-out", "m'envoyer").
const SENTENCE_BREAK = /[.!?¡¿;…\n\r]+/u;
const CLAUSE_BREAK = /[,:()[\]{}"“”«»]+/u;

function tokenise(text: string): Tokens {
  const words: string[] = [];
  const sentenceEnd: number[] = [];
  const clauseStart: number[] = [];
  const clauseEnd: number[] = [];
  for (const sentence of text.normalize('NFKC').split(SENTENCE_BREAK)) {
    const sentenceStart = words.length;
    for (const clause of sentence.split(CLAUSE_BREAK)) {
      const start = words.length;
      for (const word of normalise(clause).split(' ')) if (word !== '') words.push(word);
      for (let i = start; i < words.length; i++) {
        clauseStart.push(start);
        clauseEnd.push(words.length);
      }
    }
    for (let i = sentenceStart; i < words.length; i++) sentenceEnd.push(words.length);
  }
  return { words, sentenceEnd, clauseStart, clauseEnd };
}

// The message is a command if, after peeling polite words off either end ("please stop, thanks",
// "Quiero darme de baja"), exactly a keyword phrase or a language name remains.
function matchWholeMessage(packs: KeywordPacks, words: readonly string[], preferred: Locale[]): Recognition | undefined {
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
function fillerAt(packs: KeywordPacks, words: readonly string[], start: number, end: number, side: 'start' | 'end'): number {
  for (let n = Math.min(packs.longestFiller, end - start); n > 0; n--) {
    const candidate = side === 'start' ? words.slice(start, start + n) : words.slice(end - n, end);
    if (packs.fillers.get(n)?.has(candidate.join(' '))) return n;
  }
  return 0;
}

// A sentence that mentions stopping ("can you stop sending me offers?", "ya no quiero recibir mensajes")
// gets a clarifying question rather than an opt-out nobody asked for. Matches whole words only, so
// "stopwatch" is not "stop"; a cue whose first word lies inside a not_opt_out match ("bus stop",
// "no pares de") does not count. The language is the one whose cue covers the most words ("stop kirim
// iklan" is Indonesian although "stop" alone is every language's), then the first preferred.
function findOptOutCue(packs: KeywordPacks, message: Tokens, preferred: readonly Locale[]): Recognition | undefined {
  const { words } = message;
  const excluded = new Array<boolean>(words.length).fill(false);
  for (let i = 0; i < words.length; i++) {
    for (const pattern of packs.notOptOut.get(words[i]) ?? []) {
      const match = matchPattern(pattern, message, i, message.clauseEnd[i]);
      if (match) excluded.fill(true, i, match.end);
    }
  }

  let best: { locale: Locale; words: number } | undefined;
  const rank = (locale: Locale) => {
    const at = preferred.indexOf(locale);
    return at < 0 ? preferred.length : at;
  };
  for (let i = 0; i < words.length; i++) {
    if (excluded[i]) continue;
    for (const cue of packs.cues.get(words[i]) ?? []) {
      const match = matchPattern(cue.pattern, message, i, message.sentenceEnd[i]);
      if (!match) continue;
      for (const locale of cue.locales) {
        if (!best || match.words > best.words || (match.words === best.words && rank(locale) < rank(best.locale))) {
          best = { locale, words: match.words };
        }
      }
    }
  }
  return best && { kind: 'ambiguous_opt_out', locale: best.locale };
}

// Where `pattern` matches starting at words[start] without passing `limit`: the end of the shortest
// match and how many of its words the pattern spelled out (gaps excluded), or undefined.
function matchPattern(pattern: Pattern, message: Tokens, start: number, limit: number): { end: number; words: number } | undefined {
  if (pattern.anchored && message.clauseStart[start] !== start) return undefined;
  const { words } = message;
  const from = (k: number, at: number, spelled: number): { end: number; words: number } | undefined => {
    if (k === pattern.elements.length) return { end: at, words: spelled };
    const element = pattern.elements[k];
    if (element.gap) {
      // Validation keeps a gap off the end, so a word must follow it.
      for (let skip = 0; skip <= PATTERN_GAP && at + skip < limit; skip++) {
        const match = from(k + 1, at + skip, spelled);
        if (match) return match;
      }
      return undefined;
    }
    if (at < limit && element.words.has(words[at])) {
      const match = from(k + 1, at + 1, spelled + 1);
      if (match) return match;
    }
    for (const phrase of element.phrases) {
      if (at + phrase.length > limit || !phrase.every((word, j) => words[at + j] === word)) continue;
      const match = from(k + 1, at + phrase.length, spelled + phrase.length);
      if (match) return match;
    }
    return undefined;
  };
  return from(0, start, 0);
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

const GAP = '*';
const ANCHOR = '^';
const CHOICE = '|';
const SET = '@';
const SET_DEFINITION = /^(@[a-z][a-z0-9_]*)\s*=\s*(.*)$/u;

// One alternative of a pattern token or word set: normalised, its words joined by "_".
function normaliseChoice(choice: string): string {
  return normalise(choice).replace(/ /gu, '_');
}

// The word_sets of a pack: "@name = a|b|c" → name → normalised alternatives.
function readWordSets(file: string, written: readonly string[]): Map<string, string[]> {
  const sets = new Map<string, string[]>();
  for (const entry of written) {
    const definition = SET_DEFINITION.exec(entry.trim());
    const fail = (why: string) => new Error(`Keyword pack ${file}: "word_sets" entry "${entry}" is not valid: ${why}`);
    if (!definition) throw fail('write it as "@name = a|b|c" with a lower-case name');
    const [, name, body] = definition;
    if (sets.has(name)) throw fail(`${name} is defined twice`);
    if (/[*^@]/u.test(body)) throw fail('a word set holds words only: no gaps, anchors or other sets');
    const alternatives = body.split(CHOICE).map(normaliseChoice);
    if (alternatives.some((alternative) => alternative === '')) throw fail('it has an empty choice or one with no letters or digits');
    sets.set(name, [...new Set(alternatives)]);
  }
  return sets;
}

// A pattern as written in a pack → its normalised source ("Keine * Werbung|Nachrichten * mehr" →
// "keine * werbung|nachrichten * mehr"; an alternative of several words keeps them joined by "_":
// "don't|dont" → "don_t|dont"), or the reason it is not a valid pattern.
function normalisePattern(written: string, sets: ReadonlyMap<string, readonly string[]>, used: Set<string>): { source: string } | { error: string } {
  const tokens = written.trim().split(/\s+/u).filter((token) => token !== '');
  const out: string[] = [];
  for (const [i, token] of tokens.entries()) {
    if (token === ANCHOR) {
      if (i !== 0) return { error: `"${ANCHOR}" may only begin it` };
      out.push(ANCHOR);
      continue;
    }
    if (token === GAP) {
      const previous = out[out.length - 1];
      if (previous === undefined || previous === ANCHOR) return { error: `it may not begin with a gap "${GAP}"` };
      if (previous === GAP) return { error: `it has two gaps "${GAP}" in a row` };
      if (i === tokens.length - 1) return { error: `it may not end with a gap "${GAP}"` };
      out.push(GAP);
      continue;
    }
    if (token.includes(GAP) || token.includes(ANCHOR)) return { error: `"${GAP}" and "${ANCHOR}" must stand alone, not in "${token}"` };
    const alternatives: string[] = [];
    for (const choice of token.split(CHOICE)) {
      if (choice.startsWith(SET)) {
        const set = sets.get(choice);
        if (!set) return { error: `it uses the word set "${choice}", which the pack does not define` };
        used.add(choice);
        alternatives.push(...set);
        continue;
      }
      const alternative = normaliseChoice(choice);
      if (alternative === '') return { error: `"${token}" has an empty choice or one with no letters or digits` };
      alternatives.push(alternative);
    }
    out.push([...new Set(alternatives)].join(CHOICE));
  }
  if (!out.some((token) => token !== GAP && token !== ANCHOR)) return { error: 'it has no words' };
  return { source: out.join(' ') };
}

function compilePattern(source: string): Pattern {
  const tokens = source.split(' ');
  const anchored = tokens[0] === ANCHOR;
  const elements = (anchored ? tokens.slice(1) : tokens).map((token): PatternElement => {
    if (token === GAP) return { gap: true };
    const alternatives = token.split(CHOICE).map((alternative) => alternative.split('_'));
    return {
      gap: false,
      alternatives,
      words: new Set(alternatives.filter((a) => a.length === 1).map((a) => a[0])),
      phrases: alternatives.filter((a) => a.length > 1),
    };
  });
  return { source, anchored, elements };
}

// Every word a match of `pattern` can start with (patterns never begin with a gap).
function firstWords(pattern: Pattern): string[] {
  const first = pattern.elements[0];
  return first.gap ? [] : [...new Set(first.alternatives.map((alternative) => alternative[0]))];
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
  // PACK_LISTS puts word_sets before the patterns that use them.
  let sets = new Map<string, string[]>();
  const usedSets = new Set<string>();
  for (const list of PACK_LISTS) {
    const phrases = record[list];
    if (!Array.isArray(phrases) || phrases.length === 0 || !phrases.every((p) => typeof p === 'string')) {
      throw new Error(`Keyword pack ${file}: "${list}" must be a non-empty list of strings`);
    }
    if (list === 'word_sets') {
      sets = readWordSets(file, phrases);
      pack[list] = [...sets].map(([name, alternatives]) => `${name} = ${alternatives.join(CHOICE)}`);
      continue;
    }
    if (PATTERN_LISTS.includes(list)) {
      pack[list] = [
        ...new Set(
          phrases.map((written: string) => {
            const pattern = normalisePattern(written, sets, usedSets);
            if ('error' in pattern) throw new Error(`Keyword pack ${file}: "${list}" pattern "${written}" is not valid: ${pattern.error}`);
            return pattern.source;
          }),
        ),
      ];
      continue;
    }
    // "*", "|", "^" and "@" mean something only in patterns; in a phrase they would silently vanish.
    const patternLike = phrases.find((phrase: string) => /[*|^@]/u.test(phrase));
    if (patternLike !== undefined) {
      throw new Error(`Keyword pack ${file}: "${list}" phrase "${patternLike}" uses pattern syntax, which only ${PATTERN_LISTS.join(', ')} understand`);
    }
    pack[list] = [...new Set(phrases.map((phrase: string) => normalise(phrase)))];
    if (pack[list].includes('')) {
      throw new Error(`Keyword pack ${file}: "${list}" has a phrase with no letters or digits`);
    }
    if (list === 'fillers' || list === 'ambiguous') continue;
    const intent = list as Intent;
    // One phrase, two meanings in one language would make the answer depend on list order.
    for (const phrase of pack[list]) {
      const other = intentOf.get(phrase);
      if (other) throw new Error(`Keyword pack ${file}: "${phrase}" is in both "${other}" and "${intent}"`);
      intentOf.set(phrase, intent);
    }
  }
  const unused = [...sets.keys()].filter((name) => !usedSets.has(name));
  if (unused.length > 0) throw new Error(`Keyword pack ${file}: "word_sets" defines ${unused.join(', ')} but no pattern uses it`);
  return pack;
}
