import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadKeywordPacks } from '../../src/chat/keywordPacks';
import { type Recognition, recognise } from '../../src/chat/recognise';
import { LOCALES, type Locale } from '../../src/i18n/locales';

/**
 * Sentences as subscribers write them on WhatsApp, per language (test/chat/corpus/<lng>.json), each
 * labelled by what the person meant:
 *  - clear: plainly asks to stop messages / unsubscribe; must be noticed (an opt-out or the question),
 *  - ambiguous: might be an opt-out (a question about unsubscribing, a complaint); the question is right,
 *  - unrelated: mentions stopping in another sense ("the bus stop"); must never be an opt-out at once.
 * Prints a precision/recall table per language.
 */
type Label = 'clear' | 'ambiguous' | 'unrelated';
interface Sentence {
  text: string;
  label: Label;
}
type Outcome = 'opt_out' | 'question' | 'nothing';

const packs = loadKeywordPacks();
const CORPUS_DIR = path.join(__dirname, 'corpus');
const LABELS: readonly Label[] = ['clear', 'ambiguous', 'unrelated'];

function readCorpus(locale: Locale): Sentence[] {
  const file = path.join(CORPUS_DIR, `${locale}.json`);
  const sentences = JSON.parse(readFileSync(file, 'utf8')) as Sentence[];
  for (const s of sentences) {
    if (typeof s.text !== 'string' || !LABELS.includes(s.label)) throw new Error(`${file}: bad entry ${JSON.stringify(s)}`);
  }
  return sentences;
}

// Realistic preferences: the subscriber's own language (remembered, or their number's country) first,
// then the deployment default.
const preferredFor = (locale: Locale): Locale[] => (locale === 'en' ? ['en'] : [locale, 'en']);

function outcomeOf(r: Recognition): Outcome {
  if (r.kind === 'intent' && r.intent === 'opt_out') return 'opt_out';
  if (r.kind === 'ambiguous_opt_out') return 'question';
  return 'nothing';
}

interface Result extends Sentence {
  outcome: Outcome;
  locale?: Locale;
}

const results = Object.fromEntries(
  LOCALES.map((locale) => [
    locale,
    readCorpus(locale).map((s): Result => {
      const r = recognise(packs, s.text, preferredFor(locale));
      return { ...s, outcome: outcomeOf(r), locale: 'locale' in r ? r.locale : undefined };
    }),
  ]),
) as Record<Locale, Result[]>;

const noticed = (r: Result) => r.outcome !== 'nothing';
const share = (part: number, whole: number) => (whole === 0 ? 1 : part / whole);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

function stats(locale: Locale) {
  const rs = results[locale];
  const of = (label: Label) => rs.filter((r) => r.label === label);
  const flagged = rs.filter(noticed);
  return {
    sentences: rs.length,
    clear: of('clear').length,
    clearNoticed: of('clear').filter(noticed).length,
    ambiguousAsked: of('ambiguous').filter(noticed).length,
    ambiguous: of('ambiguous').length,
    unrelated: of('unrelated').length,
    unrelatedAsked: of('unrelated').filter((r) => r.outcome === 'question').length,
    unrelatedOptedOut: of('unrelated').filter((r) => r.outcome === 'opt_out').length,
    // Of everything that got an opt-out or the question, the share that was meant as (possibly) one.
    precision: share(flagged.filter((r) => r.label !== 'unrelated').length, flagged.length),
  };
}

afterAll(() => {
  const header = ['lng', 'sentences', 'clear recall', 'ambiguous asked', 'unrelated asked', 'unrelated opted out', 'precision'];
  const rows = LOCALES.map((locale) => {
    const s = stats(locale);
    return [
      locale,
      String(s.sentences),
      `${s.clearNoticed}/${s.clear} ${pct(share(s.clearNoticed, s.clear))}`,
      `${s.ambiguousAsked}/${s.ambiguous}`,
      `${s.unrelatedAsked}/${s.unrelated}`,
      `${s.unrelatedOptedOut}/${s.unrelated}`,
      pct(s.precision),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const table = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
  console.log(`Opt-out sentences, per language (recall: clear ones answered with an opt-out or the question)\n${table}`);
});

describe.each(LOCALES)('opt-out sentences in %s', (locale) => {
  const rs = results[locale];

  it('has a corpus of at least 40 sentences: at least 20 clear and 10 unrelated', () => {
    expect(rs.length).toBeGreaterThanOrEqual(40);
    expect(rs.filter((r) => r.label === 'clear').length).toBeGreaterThanOrEqual(20);
    expect(rs.filter((r) => r.label === 'unrelated').length).toBeGreaterThanOrEqual(10);
  });

  it('notices at least 95 % of clear opt-out sentences (an opt-out or the question)', () => {
    const clear = rs.filter((r) => r.label === 'clear');
    const missed = clear.filter((r) => !noticed(r)).map((r) => r.text);
    const allowed = Math.floor(clear.length * 0.05);
    // On failure, the sentences missed are what is shown.
    expect(missed.length <= allowed ? [] : missed).toEqual([]);
  });

  it('never opts out at once on an unrelated sentence that mentions stopping', () => {
    expect(rs.filter((r) => r.label === 'unrelated' && r.outcome === 'opt_out').map((r) => r.text)).toEqual([]);
  });

  it('answers a clear opt-out sentence in the language it is written in', () => {
    const elsewhere = rs.filter((r) => r.label === 'clear' && noticed(r) && r.locale !== locale).map((r) => `${r.text} → ${r.locale}`);
    expect(elsewhere).toEqual([]);
  });
});
