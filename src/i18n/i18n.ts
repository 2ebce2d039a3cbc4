import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import i18next, { type i18n, type TFunction } from 'i18next';

export const LOCALES_DIR = path.resolve(__dirname, '..', '..', 'locales');

/**
 * Rendering happens at the edge: use cases return message keys and parameters, and only the
 * adapters (chat replies, console) turn them into text here.
 */
export interface Translator {
  t(locale: string, key: string, params?: Record<string, unknown>): string;
  locales: string[];
}

/**
 * `fallback` answers for a language the bot no longer speaks (a person's stored choice of a language
 * an override folder added and a later deployment dropped): the deployment's DEFAULT_LOCALE.
 */
export function createTranslator(dir = LOCALES_DIR, overrides: Partial<Record<string, Record<string, string>>> = {}, fallback = 'en'): Translator {
  const resources: Record<string, { translation: Record<string, unknown> }> = {};
  for (const lng of readdirSync(dir)) {
    const file = path.join(dir, lng, 'translation.json');
    if (existsSync(file)) resources[lng] = { translation: JSON.parse(readFileSync(file, 'utf8')) };
  }
  // A deployer's texts (i18n/localeOverrides.ts, checked there) replace ours, key by key.
  // A language the deployer adds has every text in its file (checked there), so its resources are built here.
  for (const [lng, texts] of Object.entries(overrides)) {
    resources[lng] ??= { translation: {} };
    for (const [key, text] of Object.entries(texts ?? {})) {
      const parts = key.split('.');
      let node = resources[lng].translation;
      for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
      node[parts.at(-1)!] = text;
    }
  }
  const instance: i18n = i18next.createInstance();
  void instance.init({
    resources,
    lng: 'en',
    fallbackLng: 'en',
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  const fixed = new Map<string, TFunction>();
  const tFor = (lng: string) => {
    let f = fixed.get(lng);
    if (!f) {
      f = instance.getFixedT(resources[lng] ? lng : resources[fallback] ? fallback : 'en');
      fixed.set(lng, f);
    }
    return f;
  };
  return {
    locales: Object.keys(resources),
    t: (locale, key, params) => String(tFor(locale)(key, params ?? {})),
  };
}
