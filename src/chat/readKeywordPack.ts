import { readFileSync } from 'node:fs';
import { INTENTS, type Intent } from './intents';
import { normalise } from './normalise';
import { CHOICE, normalisePattern, readWordSets } from './sentencePattern';

/**
 * The lists of one locales/<lng>/keywords.json, normalised:
 *  - one per intent: whole-message phrases ("stop", "darme de baja"),
 *  - fillers: polite words peeled off either end of a whole message ("please", "por favor"),
 *  - ambiguous: opt-out phrases that also hint at an opt-out inside a longer message ("stop"),
 *  - word_sets: named choices of words for the patterns of that pack ("@send = mandar|enviar|escribirme"),
 *  - opt_out_patterns: sentence patterns that hint at an opt-out inside a message ("keine * mehr"),
 *  - not_opt_out: patterns in which an opt-out word means something else ("bus stop", "no pares de").
 * The pattern syntax is described in sentencePattern.ts.
 */
export type PackList = Intent | 'fillers' | 'ambiguous' | 'word_sets' | 'opt_out_patterns' | 'not_opt_out';
export const PACK_LISTS: readonly PackList[] = [...INTENTS, 'fillers', 'ambiguous', 'word_sets', 'opt_out_patterns', 'not_opt_out'];
const PATTERN_LISTS: readonly PackList[] = ['word_sets', 'opt_out_patterns', 'not_opt_out'];

/**
 * Reads and checks one keyword pack, returning its lists normalised and without duplicates. Throws
 * naming the file on any problem: a missing or empty list, an unknown list, pattern syntax in a
 * phrase, an invalid pattern or word set, a word set no pattern uses, a phrase with two meanings.
 */
export function readKeywordPack(file: string, override?: KeywordOverride): Record<PackList, string[]> {
  let raw: unknown = {};
  // A language a deployer adds has no pack of ours: its override is the whole of it.
  if (!override?.added) {
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`Keyword pack ${file} cannot be read: ${(err as Error).message}`);
    }
  }
  if (!override) return checkKeywordPack(file, raw);
  // A deployer's additions and removals (i18n/localeOverrides.ts), checked with the pack they change.
  const merged = { ...(raw as Record<string, unknown>) };
  for (const [list, change] of Object.entries(override.lists)) {
    const base = Array.isArray(merged[list]) ? (merged[list] as unknown[]).filter((p): p is string => typeof p === 'string') : [];
    for (const phrase of change.remove ?? []) {
      const p = normalise(phrase);
      // STOP and START must always work: the words people and the FCC rules expect (47 CFR 64.1200(a)(10)).
      if (KEPT.has(p)) throw new Error(`${override.file}: keywords.${list}.remove: "${phrase}" cannot be removed (STOP and START always work)`);
      if (!base.some((b) => normalise(b) === p)) throw new Error(`${override.file}: keywords.${list}.remove: "${phrase}" is not in the list`);
    }
    const removed = new Set((change.remove ?? []).map((p) => normalise(p)));
    merged[list] = [...base.filter((p) => !removed.has(normalise(p))), ...(change.add ?? [])];
  }
  const pack = override.added ? checkKeywordPack(override.file, merged, ADDED_OPTIONAL) : checkKeywordPack(`${override.file} (over ${file})`, merged);
  // A word that hints at an opt-out inside a sentence must be one on its own too.
  const loose = pack.ambiguous.filter((p) => !pack.opt_out.includes(p));
  if (loose.length) throw new Error(`${override.file}: keywords.ambiguous: ${loose.map((p) => `"${p}"`).join(', ')} must also be in opt_out`);
  return pack;
}

const KEPT = new Set(['stop', 'start']);
// What a new language may leave empty: it has no sentence patterns of ours, and fillers are a nicety.
const ADDED_OPTIONAL: readonly PackList[] = ['fillers', 'ambiguous', 'word_sets', 'opt_out_patterns', 'not_opt_out'];

/** What a deployer's override file changes in one language's keyword lists. */
export interface KeywordOverride {
  file: string;
  /** The language is the deployer's own (no pack of ours under it). */
  added?: boolean;
  lists: Partial<Record<PackList, { add?: string[]; remove?: string[] }>>;
}

/** The checks of readKeywordPack on an already parsed pack; `file` names it in every error. */
export function checkKeywordPack(file: string, raw: unknown, mayBeEmpty: readonly PackList[] = []): Record<PackList, string[]> {
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
    const phrases = record[list] ?? (mayBeEmpty.includes(list) ? [] : undefined);
    if (!Array.isArray(phrases) || (phrases.length === 0 && !mayBeEmpty.includes(list)) || !phrases.every((p) => typeof p === 'string')) {
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
