import { readFileSync } from 'node:fs';
import path from 'node:path';
import { INTENTS } from '../../src/chat/intents';
import { loadKeywordPacks } from '../../src/chat/keywordPacks';
import { PACK_LISTS, type PackList } from '../../src/chat/readKeywordPack';
import { recognise } from '../../src/chat/recognise';
import { LOCALES, type Locale } from '../../src/i18n/locales';
import { normalise } from '../../src/chat/normalise';

const LOCALES_DIR = path.resolve(__dirname, '..', '..', 'locales');
const TRANSLATED = LOCALES.filter((locale) => locale !== 'en');

interface Translation {
  /** Leaf key path ("help.stop.title") → text. */
  leaves: Map<string, string>;
  /** Key paths written twice in one object. */
  duplicates: string[];
}

// Reads a translation file by hand rather than with JSON.parse, because JSON.parse silently keeps only
// the last of two equal keys and a key lost that way must not go unnoticed. Objects written twice under
// one key are merged, as their author meant.
function readTranslation(locale: Locale): Translation {
  const file = path.join(LOCALES_DIR, locale, 'translation.json');
  const text = readFileSync(file, 'utf8');
  JSON.parse(text); // the file must still be valid JSON
  const tokens = text.match(/"(?:[^"\\]|\\.)*"|[{}[\]:,]|[^\s{}[\]:,"]+/g) ?? [];
  const leaves = new Map<string, string>();
  const duplicates: string[] = [];
  const objects: { path: string; keys: Set<string> }[] = [];
  let key = '';
  let expectingKey = false;
  const at = (k: string) => [objects[objects.length - 1].path, k].filter(Boolean).join('.');
  for (const token of tokens) {
    if (token === '{') {
      objects.push({ path: objects.length === 0 ? '' : at(key), keys: new Set() });
      expectingKey = true;
    } else if (token === '}') {
      objects.pop();
    } else if (token === ',') {
      expectingKey = true;
    } else if (token === ':') {
      expectingKey = false;
    } else if (token === '[' || token === ']') {
      throw new Error(`${file}: translations are strings in objects, not lists`);
    } else if (expectingKey) {
      key = JSON.parse(token) as string;
      const current = objects[objects.length - 1];
      if (current.keys.has(key)) duplicates.push(at(key));
      current.keys.add(key);
    } else {
      leaves.set(at(key), String(JSON.parse(token)));
    }
  }
  return { leaves, duplicates };
}

const translations = Object.fromEntries(LOCALES.map((l) => [l, readTranslation(l)])) as Record<Locale, Translation>;
const english = translations.en.leaves;

const placeholders = (text: string) => [...text.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => m[1]).sort();
const length = (text: string) => [...text].length;

describe('translations', () => {
  // A plural key has the forms its own language needs (Intl.PluralRules, as i18next picks them):
  // Spanish adds "many" ("1 000 000 de mensajes"), Indonesian has "other" only.
  const PLURAL = /_(zero|one|two|few|many|other)$/;
  const expectedKeys = (locale: Locale) => {
    const forms = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
    return new Set([...english.keys()].flatMap((k) => (PLURAL.test(k) ? forms.map((f) => k.replace(PLURAL, `_${f}`)) : [k])));
  };
  it.each(TRANSLATED)('%s has exactly the keys of en, with its own plural forms', (locale) => {
    const expected = expectedKeys(locale);
    const keys = [...translations[locale].leaves.keys()];
    const missing = [...expected].filter((k) => !translations[locale].leaves.has(k));
    const extra = keys.filter((k) => !expected.has(k));
    expect({ missing, extra }).toEqual({ missing: [], extra: [] });
  });

  it.each(TRANSLATED)('%s uses the same {{placeholders}} as en in every text', (locale) => {
    const differing = [...english]
      .filter(([key, text]) => {
        const translated = translations[locale].leaves.get(key);
        if (PLURAL.test(key)) return false; // a language's plural forms are checked in test/messages/plurals.test.ts
        return translated !== undefined && placeholders(translated).join() !== placeholders(text).join();
      })
      .map(([key]) => key);
    expect(differing).toEqual([]);
  });

  it.each(LOCALES)('%s writes no key twice in one object (JSON.parse would keep only the last)', (locale) => {
    expect(translations[locale].duplicates).toEqual([]);
  });

  it.each(LOCALES)('%s fits WhatsApp button and list limits', (locale) => {
    const limitOf = (key: string): number | undefined => {
      if (/^help\.[^.]+\.title$/.test(key)) return 24;
      if (/^help\.[^.]+\.description$/.test(key)) return 72;
      const buttons = ['optOut.questionYes', 'optOut.questionNo', 'erase.yes', 'erase.no', 'help.button', 'language.button'];
      return buttons.includes(key) ? 20 : undefined;
    };
    const tooLong = [...translations[locale].leaves]
      .filter(([key, text]) => {
        const limit = limitOf(key);
        return limit !== undefined && length(text) > limit;
      })
      .map(([key, text]) => `${key} (${length(text)}): ${text}`);
    expect(tooLong).toEqual([]);
  });

  it.each([
    ['es', 'Español'],
    ['pt', 'Português'],
    ['fr', 'Français'],
    ['de', 'Deutsch'],
    ['id', 'Bahasa Indonesia'],
  ] as [Locale, string][])('%s names itself %s', (locale, name) => {
    expect(translations[locale].leaves.get('language.name')).toBe(name);
  });

  // "Reply BAJA" is only useful if the bot then understands BAJA, in that same language.
  it.each(LOCALES)('%s only tells subscribers to write commands it recognises in that language', (locale) => {
    const notCommands = new Set(['OK', 'JSON', 'GDPR', 'RGPD', 'DSGVO']);
    const packs = loadKeywordPacks();
    const commands = [...translations[locale].leaves.values()]
      .flatMap((text) => text.match(/(?<!\p{L})\p{Lu}{2,}(?: \p{Lu}{2,})*(?!\p{L})/gu) ?? [])
      .filter((word) => !notCommands.has(word));
    expect(commands.length).toBeGreaterThan(0);
    const misunderstood = [...new Set(commands)].filter((command) => {
      const understood = recognise(packs, command, [locale]);
      return understood.kind !== 'intent' || understood.locale !== locale;
    });
    expect(misunderstood).toEqual([]);
  });
});

describe('keyword packs', () => {
  const raw = Object.fromEntries(
    LOCALES.map((locale) => {
      const file = path.join(LOCALES_DIR, locale, 'keywords.json');
      const json = JSON.parse(readFileSync(file, 'utf8')) as Record<PackList, string[]>;
      const lists = Object.fromEntries(PACK_LISTS.map((list) => [list, (json[list] ?? []).map(normalise)]));
      return [locale, lists];
    }),
  ) as Record<Locale, Record<PackList, string[]>>;

  it('loads every pack', () => {
    expect(() => loadKeywordPacks()).not.toThrow();
  });

  it.each(LOCALES)('%s has phrases for every intent, filler and ambiguous list', (locale) => {
    const empty = PACK_LISTS.filter((list) => raw[locale][list].length === 0);
    expect(empty).toEqual([]);
  });

  it.each(LOCALES)('%s never gives one phrase two intents', (locale) => {
    const seen = new Map<string, string>();
    const clashes: string[] = [];
    for (const intent of INTENTS) {
      for (const phrase of raw[locale][intent]) {
        const other = seen.get(phrase);
        if (other && other !== intent) clashes.push(`"${phrase}": ${other} and ${intent}`);
        seen.set(phrase, intent);
      }
    }
    expect(clashes).toEqual([]);
  });

  // The preferred language may choose the reply language, never the action taken.
  it('gives a phrase shared by several languages the same intent in each', () => {
    const first = new Map<string, { locale: Locale; intent: string }>();
    const clashes: string[] = [];
    for (const locale of LOCALES) {
      for (const intent of INTENTS) {
        for (const phrase of raw[locale][intent]) {
          const other = first.get(phrase);
          if (!other) first.set(phrase, { locale, intent });
          else if (other.intent !== intent) clashes.push(`"${phrase}": ${other.locale} ${other.intent}, ${locale} ${intent}`);
        }
      }
    }
    expect(clashes).toEqual([]);
  });

  it.each(LOCALES)('%s marks as ambiguous only phrases that are opt-outs on their own', (locale) => {
    const notOptOut = raw[locale].ambiguous.filter((phrase) => !raw[locale].opt_out.includes(phrase));
    expect(notOptOut).toEqual([]);
  });

  // Fillers of every language are peeled off every message, so they must never eat part of a keyword.
  it('has no filler that is, starts or ends a keyword phrase in any language', () => {
    const fillers = LOCALES.flatMap((locale) => raw[locale].fillers);
    const keywords = LOCALES.flatMap((locale) => INTENTS.flatMap((intent) => raw[locale][intent]));
    const eaten = keywords.filter((keyword) => fillers.some((f) => keyword === f || keyword.startsWith(`${f} `) || keyword.endsWith(` ${f}`)));
    expect(eaten).toEqual([]);
  });
});
