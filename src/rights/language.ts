import type { Deps } from '../deps';
import { outcome, text, type Outcome } from './outcome';
import type { Subscriber } from './subscribers';

export const LANGUAGE_NAMES: Record<string, string> = {
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
    rows: Object.entries(LANGUAGE_NAMES).map(([code, title]) => ({ id: `lang.${code}`, title })),
  });
}

/** Remembers the subscriber's language; the confirmation is written in the new one. */
export async function setLanguage(deps: Deps, s: Subscriber, locale: string): Promise<Outcome> {
  await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { locale } });
  return { ...outcome('language_changed', text('language.changed')), locale };
}
