import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LOCALES, isLocale, type Locale } from './locales';
import { LOCALES_DIR } from './i18n';

/**
 * A deployer's own words, without a fork (LOCALES_OVERRIDE_DIR, mountable in the container): one
 * `<lng>.json` per language that adds or removes keywords and replaces reply texts, checked at
 * start-up. Anything wrong stops the start with a message naming the file and the key: a typo must
 * not silently leave STOP unrecognised or a reply without the business's name.
 *
 *   { "keywords": { "opt_out": { "add": ["unsub-acme"], "remove": ["end"] } },
 *     "texts": { "optOut.confirmed": "Done: {{business}} won't send you offers any more." } }
 */
export interface LocaleOverrides {
  /** Per language: the file, and what it changes in each keyword list (chat/readKeywordPack.ts checks the result). */
  keywords: Partial<Record<Locale, { file: string; lists: Partial<Record<OverridableList, { add?: string[]; remove?: string[] }>> }>>;
  /** Per language: reply texts by their dotted key, replacing locales/<lng>/translation.json's. */
  texts: Partial<Record<Locale, Record<string, string>>>;
}

export class LocaleOverrideError extends Error {}

// The lists a deployer may change: the intents' phrases, fillers and ambiguous words (patterns stay ours).
const LISTS = ['opt_out', 'opt_in', 'help', 'my_data', 'delete', 'status', 'language', 'yes', 'no', 'fillers', 'ambiguous'] as const;
export type OverridableList = (typeof LISTS)[number];
const phrases = z.array(z.string().trim().min(1, 'an empty phrase')).min(1, 'at least one phrase');
const change = z.strictObject({ add: phrases.optional(), remove: phrases.optional() });
const fileSchema = z.strictObject({
  keywords: z.partialRecord(z.enum(LISTS), change).optional(),
  texts: z.record(z.string(), z.string().trim().min(1, 'an empty text')).optional(),
});

const placeholders = (text: string) => new Set([...text.matchAll(/\{\{\s*([\w.]+)[^}]*\}\}/g)].map((m) => m[1]));

/** Every reply text of a translation file, by dotted key. */
function flatten(node: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (typeof node === 'string') out.set(prefix, node);
  else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

export function readLocaleOverrides(dir: string | undefined, localesDir = LOCALES_DIR): LocaleOverrides {
  const result: LocaleOverrides = { keywords: {}, texts: {} };
  if (!dir) return result;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new LocaleOverrideError(`LOCALES_OVERRIDE_DIR ${dir} is not a folder`);
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    // Dot-entries are a mount's own (a Kubernetes ConfigMap's ..data and its links); anything else
    // that is not <lng>.json is a mistake that must not pass silently (a folder in the locales/ layout).
    if (name.startsWith('.')) continue;
    if (!name.endsWith('.json') || !statSync(file).isFile()) {
      throw new LocaleOverrideError(`${file}: not an override file: the folder holds only <lng>.json files (${LOCALES.map((l) => `${l}.json`).join(', ')})`);
    }
    const lng = name.slice(0, -'.json'.length);
    if (!isLocale(lng)) {
      throw new LocaleOverrideError(
        `${file}: "${lng}" is not one of the bot's languages (${LOCALES.join(', ')}); a new language cannot be added by an override yet`,
      );
    }
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
    const base = flatten(JSON.parse(readFileSync(path.join(localesDir, lng, 'translation.json'), 'utf8')));
    for (const [key, text] of Object.entries(parsed.data.texts ?? {})) {
      const original = base.get(key);
      if (original === undefined) throw new LocaleOverrideError(`${file}: texts."${key}" is not a reply text of ${lng} (see locales/${lng}/translation.json)`);
      const needed = placeholders(original);
      const given = placeholders(text);
      const missing = [...needed].filter((p) => !given.has(p));
      if (missing.length) throw new LocaleOverrideError(`${file}: texts."${key}" lacks ${missing.map((p) => `{{${p}}}`).join(', ')}, which the reply needs`);
      const unknown = [...given].filter((p) => !needed.has(p));
      if (unknown.length)
        throw new LocaleOverrideError(`${file}: texts."${key}" uses ${unknown.map((p) => `{{${p}}}`).join(', ')}, which this reply does not have`);
    }
    if (parsed.data.texts) result.texts[lng] = parsed.data.texts;
    if (parsed.data.keywords) result.keywords[lng] = { file, lists: parsed.data.keywords };
  }
  return result;
}
