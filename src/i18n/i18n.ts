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

export function createTranslator(dir = LOCALES_DIR): Translator {
  const resources: Record<string, { translation: Record<string, unknown> }> = {};
  for (const lng of readdirSync(dir)) {
    const file = path.join(dir, lng, 'translation.json');
    if (existsSync(file)) resources[lng] = { translation: JSON.parse(readFileSync(file, 'utf8')) };
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
      f = instance.getFixedT(resources[lng] ? lng : 'en');
      fixed.set(lng, f);
    }
    return f;
  };
  return {
    locales: Object.keys(resources),
    t: (locale, key, params) => String(tFor(locale)(key, params ?? {})),
  };
}
