/**
 * The languages the bot speaks: each has locales/<lng>/keywords.json and translation.json. The only
 * place the list is spelled; its order is the tie-break when a phrase exists in several languages
 * (a bare "stop" is English).
 */
export const LOCALES = ['en', 'es', 'pt', 'fr', 'de', 'id'] as const;

export type Locale = (typeof LOCALES)[number];

export function isLocale(value: unknown): value is Locale {
  return (LOCALES as readonly unknown[]).includes(value);
}
