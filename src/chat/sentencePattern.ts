import { normalise } from './normalise';

/**
 * Sentence patterns of a keyword pack (its opt_out_patterns and not_opt_out lists): how they are
 * written, checked, compiled, and matched against a message.
 *
 * Syntax, words separated by spaces:
 *  - a word, compared after normalise() ("mándame" is "mandame"); "m'envoyer" is the two words "m envoyer",
 *  - a|b|c: any one of the alternatives; an alternative may be several words ("don't|dont|do_not"),
 *  - @name: any word of the pack's word set @name, alone or among alternatives ("@send|llamarme"),
 *  - *: a gap of 0 to PATTERN_GAP words (never the first or last token),
 *  - ^ as the first token: the match must start a clause (the message, or after . ! ? , ; and the like).
 * A pattern matches within one sentence; a not_opt_out pattern within one clause (commas end it).
 * A word set is written "@name = a|b|c" (alternatives as in patterns, no gaps, no other sets) and must be used.
 */

/** Most words a `*` in a pattern spans. */
export const PATTERN_GAP = 3;

/** A compiled pattern: slots (each a choice of word sequences) and gaps, in order. */
export interface Pattern {
  /** The pattern as normalised in the pack's lists ("keine * werbung|nachrichten * mehr"). */
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

const GAP = '*';
const ANCHOR = '^';
export const CHOICE = '|';
const SET = '@';
const SET_DEFINITION = /^(@[a-z][a-z0-9_]*)\s*=\s*(.*)$/u;

// One alternative of a pattern token or word set: normalised, its words joined by "_".
function normaliseChoice(choice: string): string {
  return normalise(choice).replace(/ /gu, '_');
}

/** The word_sets of a pack: "@name = a|b|c" → name → normalised alternatives. Throws naming `file`. */
export function readWordSets(file: string, written: readonly string[]): Map<string, string[]> {
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

/**
 * A pattern as written in a pack → its normalised source ("Keine * Werbung|Nachrichten * mehr" →
 * "keine * werbung|nachrichten * mehr"; an alternative of several words keeps them joined by "_":
 * "don't|dont" → "don_t|dont"), or the reason it is not a valid pattern. Adds the word sets it uses to `used`.
 */
export function normalisePattern(written: string, sets: ReadonlyMap<string, readonly string[]>, used: Set<string>): { source: string } | { error: string } {
  const tokens = written
    .trim()
    .split(/\s+/u)
    .filter((token) => token !== '');
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

/** A normalised source (normalisePattern) → the pattern matchPattern runs. */
export function compilePattern(source: string): Pattern {
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

/** Every word a match of `pattern` can start with (patterns never begin with a gap). */
export function firstWords(pattern: Pattern): string[] {
  const first = pattern.elements[0];
  return first.gap ? [] : [...new Set(first.alternatives.map((alternative) => alternative[0]))];
}

/** A message's normalised words, and for each word where its sentence and its clause end. */
export interface Tokens {
  readonly words: readonly string[];
  readonly sentenceEnd: readonly number[];
  readonly clauseStart: readonly number[];
  readonly clauseEnd: readonly number[];
}

// Sentences end at . ! ? ; and line breaks (and the Spanish ¡ ¿ begin one); clauses also at , : and
// brackets or quotes. Apostrophes and hyphens stay inside words ("opt-out", "m'envoyer").
const SENTENCE_BREAK = /[.!?¡¿;…\n\r]+/u;
const CLAUSE_BREAK = /[,:()[\]{}"“”«»]+/u;

export function tokenise(text: string): Tokens {
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

/**
 * Where `pattern` matches starting at words[start] without passing `limit`: the end of the shortest
 * match and how many of its words the pattern spelled out (gaps excluded), or undefined.
 */
export function matchPattern(pattern: Pattern, message: Tokens, start: number, limit: number): { end: number; words: number } | undefined {
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
