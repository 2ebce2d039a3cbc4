/**
 * The languages the bot ships with: each has locales/<lng>/keywords.json and translation.json. The
 * only place the list is spelled; its order is the tie-break when a phrase exists in several
 * languages (a bare "stop" is English). A deployer may add more (i18n/localeOverrides.ts); they come
 * after these, so they never take a shared phrase from a built-in language.
 */
export const LOCALES = ['en', 'es', 'pt', 'fr', 'de', 'id'] as const;

export type BuiltInLocale = (typeof LOCALES)[number];

/** A language code: one of LOCALES, or one a deployer's override file adds ("it", "nl"). */
export type Locale = string;

/** What a language code looks like (ISO 639-1 or -3, lower case): the only shape an added language may take. */
export const LOCALE_CODE = /^[a-z]{2,3}$/;

export function isBuiltInLocale(value: unknown): value is BuiltInLocale {
  return (LOCALES as readonly unknown[]).includes(value);
}

/** Each of our languages' name in itself, as offered in the LANGUAGE list. */
export const LANGUAGE_TITLES: Readonly<Record<BuiltInLocale, string>> = {
  en: 'English',
  es: 'Español',
  pt: 'Português',
  fr: 'Français',
  de: 'Deutsch',
  id: 'Bahasa Indonesia',
};
