import type { Locale } from '../i18n/locales';
import type { Intent } from './intents';
import type { KeywordPacks } from './keywordPacks';
import { matchPattern, tokenise, type Tokens } from './sentencePattern';

export type Recognition =
  | { kind: 'intent'; intent: Intent; locale: Locale }
  | { kind: 'ambiguous_opt_out'; locale: Locale }
  | { kind: 'language_choice'; locale: Locale }
  | { kind: 'unknown'; locale?: Locale };

const UNKNOWN: Recognition = { kind: 'unknown' };

/**
 * What a subscriber's message asks for. `preferred` (the subscriber's remembered locale, then the
 * deployment default) decides the locale when a phrase exists in several languages; otherwise the first
 * of LOCALES that has it wins, so a bare "stop" is English.
 */
export function recognise(packs: KeywordPacks, text: string, preferred: Locale[] = []): Recognition {
  const message = tokenise(text);
  if (message.words.length === 0) return UNKNOWN;
  return matchWholeMessage(packs, message.words, preferred) ?? findOptOutCue(packs, message, preferred) ?? greetingLanguage(packs, message.words, preferred);
}

// A message nothing recognises may still say which language it is in by its greeting or polite words
// ("Hola, mi pedido…", "Bonjour"): its answer (the hint) is then in that language. Only for the
// reply: a guess from one word is not remembered as the person's language.
function greetingLanguage(packs: KeywordPacks, words: readonly string[], preferred: readonly Locale[]): Recognition {
  const leading = fillerAt(packs, words, 0, words.length, 'start');
  const trailing = leading ? 0 : fillerAt(packs, words, 0, words.length, 'end');
  if (!leading && !trailing) return UNKNOWN;
  const phrase = (leading ? words.slice(0, leading) : words.slice(words.length - trailing)).join(' ');
  const locales = packs.fillerLocales.get(phrase);
  return locales?.length ? { kind: 'unknown', locale: pickLocale(locales, preferred) } : UNKNOWN;
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
        const locale = pickLocale(
          meanings.map((m) => m.locale),
          preferred,
        );
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

// `candidates` are in LOCALES order, so without a usable preference the earliest locale wins.
function pickLocale(candidates: readonly Locale[], preferred: readonly Locale[]): Locale {
  return preferred.find((locale) => candidates.includes(locale)) ?? candidates[0];
}
