import type { Subscriber } from '../store/subscriberStore';
import type { RightsContext } from './context';
import { LOCALES, type Locale } from '../i18n/locales';
import { outcome, text, type Outcome } from './outcome';

/** Each language's name in itself, as offered in the LANGUAGE list (in LOCALES order). */
const LANGUAGE_NAMES: Record<Locale, string> = {
  en: 'English',
  es: 'Español',
  pt: 'Português',
  fr: 'Français',
  de: 'Deutsch',
  id: 'Bahasa Indonesia',
};

/** LANGUAGE without a choice: offer the languages as a list. */
export function askLanguage(): Outcome {
  return outcome('language_asked', {
    kind: 'list',
    key: 'language.ask',
    buttonKey: 'language.button',
    sectionKey: 'language.button',
    rows: LOCALES.map((locale) => ({ id: { kind: 'language' as const, locale }, title: LANGUAGE_NAMES[locale] })),
  });
}

/** Remembers the subscriber's language; the confirmation is written in the new one. */
export async function setLanguage(ctx: Pick<RightsContext, 'subscribers'>, s: Subscriber, locale: string): Promise<Outcome> {
  await ctx.subscribers.setLocale(s._id, locale);
  return { ...outcome('language_changed', text('language.changed')), locale };
}
