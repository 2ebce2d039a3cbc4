import type { Config } from '../config';
import type { Translator } from './i18n';

/** One text in one person's language. */
export type Translate = (key: string, params?: Record<string, unknown>) => string;

/**
 * Translation for one person: every text can name the business, its contact and its policy link,
 * and a param whose name ends in `Key` is a message key itself, translated and passed under the
 * name without the suffix (`typeKey` → `type`). Only words: the shape of a message and Meta's
 * limits are the messages module's (messages/translateReply.ts, messages/buildMessage.ts).
 */
export function translatorFor(tr: Translator, business: Config['business'], locale: string): Translate {
  const base = { business: business.name, support: business.supportContact, policy: business.privacyPolicyUrl };
  return (key, params) => tr.t(locale, key, { ...base, ...resolveKeys(tr, locale, params) });
}

function resolveKeys(tr: Translator, locale: string, params?: Record<string, unknown>): Record<string, unknown> {
  if (!params) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k.endsWith('Key') && typeof v === 'string') out[k.slice(0, -3)] = tr.t(locale, v);
    else out[k] = v;
  }
  return out;
}
