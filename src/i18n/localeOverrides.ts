import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LANGUAGE_TITLES, LOCALE_CODE, LOCALES, isBuiltInLocale, type Locale } from './locales';
import { LOCALES_DIR } from './i18n';

/**
 * A deployer's own words, without a fork (LOCALES_OVERRIDE_DIR, mountable in the container): one
 * `<lng>.json` per language that adds or removes keywords and replaces reply texts, checked at
 * start-up. Anything wrong stops the start with a message naming the file and the key: a typo must
 * not silently leave STOP unrecognised or a reply without the business's name.
 *
 *   { "keywords": { "opt_out": { "add": ["unsub-acme"], "remove": ["end"] } },
 *     "texts": { "optOut.confirmed": "Done: {{business}} won't send you offers any more." } }
 *
 * A file named after a language we do not ship (`it.json`) adds that language: it names itself
 * ("language": { "name": "Italiano", "names": ["italian", …] }), lists phrases for every intent and
 * gives every reply text (`npm run cli -- locale-template it` writes one to translate).
 */
export interface LocaleOverrides {
  /** Per language: the file, and what it changes in each keyword list (chat/readKeywordPack.ts checks the result). */
  keywords: Partial<Record<Locale, { file: string; added: boolean; lists: Partial<Record<OverridableList, { add?: string[]; remove?: string[] }>> }>>;
  /** Per language: reply texts by their dotted key, replacing locales/<lng>/translation.json's. */
  texts: Partial<Record<Locale, Record<string, string>>>;
  /** Languages the folder adds, after ours, in file-name order. */
  added: AddedLanguage[];
}

/** A language a deployer adds: its code, its name in itself (the LANGUAGE list) and what people may write to pick it. */
export interface AddedLanguage {
  locale: Locale;
  name: string;
  names: string[];
  file: string;
}

/**
 * At most this many languages in all: LANGUAGE offers them as one WhatsApp list message, which holds
 * 10 rows (https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-list-messages).
 */
export const MAX_LANGUAGES = 10;

export class LocaleOverrideError extends Error {}

// The lists a deployer may change: the intents' phrases, fillers and ambiguous words (patterns stay ours).
const LISTS = ['opt_out', 'opt_in', 'help', 'my_data', 'delete', 'status', 'language', 'yes', 'no', 'fillers', 'ambiguous'] as const;
export type OverridableList = (typeof LISTS)[number];
const phrases = z.array(z.string().trim().min(1, 'an empty phrase')).min(1, 'at least one phrase');
const change = z.strictObject({ add: phrases.optional(), remove: phrases.optional() });
const fileSchema = z.strictObject({
  language: z
    .strictObject({
      name: z.string().trim().min(1, "the language's name in itself").max(24, 'at most 24 characters (a list row title)'),
      names: z.array(z.string().trim().min(1, 'an empty name')).optional(),
    })
    .optional(),
  keywords: z.partialRecord(z.enum(LISTS), change).optional(),
  texts: z.record(z.string(), z.string().trim().min(1, 'an empty text')).optional(),
});
type OverrideFile = z.infer<typeof fileSchema>;
// Lists a new language must fill: every intent a message can ask for (fillers and ambiguous words are optional).
const REQUIRED_LISTS = ['opt_out', 'opt_in', 'help', 'my_data', 'delete', 'status', 'language', 'yes', 'no'] as const;

const placeholders = (text: string) => new Set([...text.matchAll(/\{\{\s*([\w.]+)[^}]*\}\}/g)].map((m) => m[1]));

/** Every reply text of a translation file, by dotted key. */
function flatten(node: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (typeof node === 'string') out.set(prefix, node);
  else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

export function readLocaleOverrides(dir: string | undefined, localesDir = LOCALES_DIR): LocaleOverrides {
  const result: LocaleOverrides = { keywords: {}, texts: {}, added: [] };
  if (!dir) return result;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new LocaleOverrideError(`LOCALES_OVERRIDE_DIR ${dir} is not a folder`);
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    // Dot-entries are a mount's own (a Kubernetes ConfigMap's ..data and its links); anything else
    // that is not <lng>.json is a mistake that must not pass silently (a folder in the locales/ layout).
    if (name.startsWith('.')) continue;
    if (!name.endsWith('.json') || !statSync(file).isFile()) {
      throw new LocaleOverrideError(
        `${file}: not an override file: the folder holds only <lng>.json files (${LOCALES.map((l) => `${l}.json`).join(', ')}, or a new language's)`,
      );
    }
    const lng = name.slice(0, -'.json'.length);
    if (!LOCALE_CODE.test(lng)) throw new LocaleOverrideError(`${file}: "${lng}" is not a language code (two or three lower-case letters, ISO 639)`);
    // "in" is Indonesian's old code, "eng" English's long one: one language, one code.
    const canonical = Intl.getCanonicalLocales(lng)[0];
    if (canonical !== lng) throw new LocaleOverrideError(`${file}: "${lng}" is written "${canonical}"; name the file ${canonical}.json`);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new LocaleOverrideError(`${file}: not valid JSON (${(err as Error).message})`);
    }
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new LocaleOverrideError(`${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    }
    const data = parsed.data;
    if (isBuiltInLocale(lng)) {
      if (data.language) throw new LocaleOverrideError(`${file}: language: only a file that adds a language names it (${lng} is one of ours)`);
      checkTexts(file, lng, data.texts ?? {}, flatten(JSON.parse(readFileSync(path.join(localesDir, lng, 'translation.json'), 'utf8'))), false);
    } else {
      result.added.push(checkAddedLanguage(file, lng, data, localesDir));
    }
    if (data.texts) result.texts[lng] = data.texts;
    if (data.keywords) result.keywords[lng] = { file, lists: data.keywords, added: !isBuiltInLocale(lng) };
  }
  if (LOCALES.length + result.added.length > MAX_LANGUAGES) {
    throw new LocaleOverrideError(
      `${dir}: ${result.added.length} languages added to our ${LOCALES.length}; at most ${MAX_LANGUAGES} in all (the LANGUAGE list holds ${MAX_LANGUAGES} rows)`,
    );
  }
  return result;
}

/** A new language must be complete: a reply that fell back to English mid-conversation would break the promise of "in their language". */
function checkAddedLanguage(file: string, lng: string, data: OverrideFile, localesDir: string): AddedLanguage {
  if (!data.language) {
    throw new LocaleOverrideError(
      `${file}: "${lng}" is not one of our languages (${LOCALES.join(', ')}); to add it, the file names it: "language": { "name": "…" } (npm run cli -- locale-template ${lng})`,
    );
  }
  // The template's placeholder left as it is would be the LANGUAGE list's row title.
  if (/^\(.* in itself\)$/.test(data.language.name))
    throw new LocaleOverrideError(`${file}: language.name: the language's name in itself ("Italiano"), not the template's placeholder`);
  for (const list of REQUIRED_LISTS) {
    const c = data.keywords?.[list];
    if (!c?.add?.length)
      throw new LocaleOverrideError(`${file}: keywords.${list}.add: a new language lists at least one phrase for each of ${REQUIRED_LISTS.join(', ')}`);
    if (c.remove) throw new LocaleOverrideError(`${file}: keywords.${list}.remove: a new language has nothing to remove`);
  }
  const english = flatten(JSON.parse(readFileSync(path.join(localesDir, 'en', 'translation.json'), 'utf8')));
  checkTexts(file, lng, data.texts ?? {}, english, true);
  return { locale: lng, name: data.language.name, names: data.language.names ?? [], file };
}

/**
 * Each text against the one it replaces (or, for a new language, the English one): the same
 * placeholders, so no reply loses the business's name or a deadline. A new language gives them all,
 * with the plural forms its own rules need (Intl.PluralRules: Polish has "few" and "many").
 */
const PLURAL = /_(zero|one|two|few|many|other)$/;

/** The English texts as a new language needs them: each plural key in the forms of that language's rules. */
function expectedTexts(lng: string, english: Map<string, string>): Map<string, string> {
  const forms = new Intl.PluralRules(lng).resolvedOptions().pluralCategories;
  const expected = new Map<string, string>();
  for (const [key, text] of english) {
    if (PLURAL.test(key)) for (const form of forms) expected.set(key.replace(PLURAL, `_${form}`), english.get(key.replace(PLURAL, '_other')) ?? text);
    else expected.set(key, text);
  }
  return expected;
}

function checkTexts(file: string, lng: string, texts: Record<string, string>, base: Map<string, string>, complete: boolean): void {
  const expected = complete ? expectedTexts(lng, base) : base;
  for (const [key, text] of Object.entries(texts)) {
    const original = expected.get(key);
    if (original === undefined) {
      throw new LocaleOverrideError(`${file}: texts."${key}" is not a reply text of ${lng} (see locales/${complete ? 'en' : lng}/translation.json)`);
    }
    const needed = placeholders(original);
    const given = placeholders(text);
    // "count" is the plural's own: a form such as "one" may say the number in words.
    const missing = [...needed].filter((p) => !given.has(p) && !(p === 'count' && PLURAL.test(key)));
    if (missing.length) throw new LocaleOverrideError(`${file}: texts."${key}" lacks ${missing.map((p) => `{{${p}}}`).join(', ')}, which the reply needs`);
    const unknown = [...given].filter((p) => !needed.has(p));
    if (unknown.length)
      throw new LocaleOverrideError(`${file}: texts."${key}" uses ${unknown.map((p) => `{{${p}}}`).join(', ')}, which this reply does not have`);
  }
  if (!complete) return;
  // A plural form is needed where the file's texts use it ($t(count.messages, …)); a file made from
  // an older template, whose texts say "{{messages}} messages", needs none.
  const nested = Object.values(texts).join('\n');
  const used = (key: string) => !PLURAL.test(key) || nested.includes(`$t(${key.replace(PLURAL, '')}`);
  const absent = [...expected.keys()].filter((key) => !(key in texts) && used(key));
  if (absent.length) {
    const shown = absent
      .slice(0, 3)
      .map((k) => `"${k}"`)
      .join(', ');
    throw new LocaleOverrideError(
      `${file}: texts: a new language gives every reply text; ${absent.length} missing (${shown}${absent.length > 3 ? ', …' : ''})`,
    );
  }
}

/** Every language the bot speaks, ours then the deployer's, with its name in itself (the LANGUAGE list). */
export function languagesOf(overrides: Pick<LocaleOverrides, 'added'>): { locale: Locale; title: string }[] {
  return [...LOCALES.map((locale) => ({ locale, title: LANGUAGE_TITLES[locale] })), ...overrides.added.map((a) => ({ locale: a.locale, title: a.name }))];
}

/**
 * The languages a deployment names (DEFAULT_LOCALE, COUNTRY_LOCALES) must be ones the bot speaks:
 * ours or one the override folder adds. Checked at start with the overrides.
 */
export function checkLanguagesInUse(overrides: LocaleOverrides, uses: { defaultLocale: string; countryLocales: Record<string, string> }): void {
  const known = new Set<string>([...LOCALES, ...overrides.added.map((a) => a.locale)]);
  const where = `(${[...known].join(', ')}${overrides.added.length ? '' : '; LOCALES_OVERRIDE_DIR may add one'})`;
  if (!known.has(uses.defaultLocale)) throw new LocaleOverrideError(`DEFAULT_LOCALE: "${uses.defaultLocale}" is not a language of the bot ${where}`);
  for (const [country, lng] of Object.entries(uses.countryLocales)) {
    if (!known.has(lng)) throw new LocaleOverrideError(`COUNTRY_LOCALES: ${country}:${lng}: "${lng}" is not a language of the bot ${where}`);
  }
}

/**
 * A new language's file to translate: every list to fill and every reply text, in English
 * (`npm run cli -- locale-template <lng>`).
 */
export function localeTemplate(lng: string, localesDir = LOCALES_DIR): object {
  const english = flatten(JSON.parse(readFileSync(path.join(localesDir, 'en', 'translation.json'), 'utf8')));
  const pack = JSON.parse(readFileSync(path.join(localesDir, 'en', 'keywords.json'), 'utf8')) as Record<string, string[]>;
  return {
    language: { name: `(${lng} in itself)`, names: [lng] },
    keywords: Object.fromEntries(REQUIRED_LISTS.map((list) => [list, { add: pack[list].slice(0, 3) }])),
    texts: Object.fromEntries(expectedTexts(lng, english)),
  };
}
