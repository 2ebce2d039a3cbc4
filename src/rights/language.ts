import type { Subscriber } from '../store/subscriberStore';
import type { RightsContext } from './context';
import type { Policy } from './policy';
import { outcome, text, type Outcome } from './outcome';

/** LANGUAGE without a choice: offer the languages as a list. */
export function askLanguage(ctx: { policy: Pick<Policy, 'languages'> }): Outcome {
  return outcome('language_asked', {
    kind: 'list',
    key: 'language.ask',
    buttonKey: 'language.button',
    sectionKey: 'language.button',
    rows: ctx.policy.languages.map(({ locale, title }) => ({ id: { kind: 'language' as const, locale }, title })),
  });
}

/** Remembers the subscriber's language; the confirmation is written in the new one. */
export async function setLanguage(ctx: Pick<RightsContext, 'subscribers'>, s: Subscriber, locale: string): Promise<Outcome> {
  await ctx.subscribers.setLocale(s._id, locale);
  return { ...outcome('language_changed', text('language.changed')), locale };
}
