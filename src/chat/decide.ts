import { parseButtonId, type MenuChoice } from '../messages/buttonIds';
import type { Subscriber } from '../store/subscriberStore';
import type { Locale } from '../i18n/locales';
import type { KeywordPacks } from './keywordPacks';
import { recognise } from './recognise';

/** What the person asked for, decided from their message and what we were waiting for. */
export type Decision =
  | { action: 'opt_out'; source: 'keyword' | 'button' }
  | { action: 'opt_in'; source: 'keyword' | 'button' }
  | {
      action:
        | 'help'
        | 'my_data'
        | 'delete'
        | 'status'
        | 'language_ask'
        | 'confirm_erasure'
        | 'cancel_erasure'
        | 'decline_opt_out'
        | 'ask_opt_out'
        | 'reask'
        | 'stale_erasure_answer';
    }
  | { action: 'set_language'; locale: Locale }
  | { action: 'unknown' }
  | { action: 'none' };

export interface Input {
  text?: string;
  buttonId?: string;
  kind: string;
}

/** The HELP menu's rows (rights/help.ts) as actions; question buttons: rights/questions.ts. */
const MENU: Record<MenuChoice, Decision> = {
  stop: { action: 'opt_out', source: 'button' },
  start: { action: 'opt_in', source: 'button' },
  my_data: { action: 'my_data' },
  delete: { action: 'delete' },
  status: { action: 'status' },
  language: { action: 'language_ask' },
};

/**
 * `locale`: the language the message was written in, remembered as the person's; `replyLocale`: a
 * guess for this reply only (a greeting in a message nothing else recognises).
 */
export function decide(
  packs: KeywordPacks,
  s: Subscriber,
  input: Input,
  preferred: Locale[],
  now: Date,
): { decision: Decision; locale?: Locale; replyLocale?: Locale } {
  const pending = s.pending && (!s.pending.expiresAt || s.pending.kind === 'erasure' || s.pending.expiresAt > now) ? s.pending.kind : null;
  const button = input.buttonId ? parseButtonId(input.buttonId) : null;
  switch (button?.kind) {
    case 'answer':
      // Only the buttons issued for the question now waiting answer it (their nonce matches).
      if (button.question === pending && button.nonce === s.pending?.questionId) {
        if (button.question === 'erasure') return { decision: { action: button.answer === 'yes' ? 'confirm_erasure' : 'cancel_erasure' } };
        return { decision: button.answer === 'yes' ? { action: 'opt_out', source: 'button' } : { action: 'decline_opt_out' } };
      }
      // A button of an earlier question: "stop marketing" still means it; nothing else is acted on.
      if (button.question === 'opt_out_question') return { decision: button.answer === 'yes' ? { action: 'opt_out', source: 'button' } : { action: 'none' } };
      return { decision: { action: 'stale_erasure_answer' } };
    case 'language':
      if (packs.lists[button.locale]) return { decision: { action: 'set_language', locale: button.locale } };
      break;
    case 'menu':
      return { decision: MENU[button.choice] };
    // Any other button (a campaign's "Yes", a template's quick reply) is an ordinary message: its
    // title is read like typed text, and never answers a question we asked.
  }
  if (!input.text) return { decision: input.kind === 'reaction' ? { action: 'none' } : { action: 'unknown' } };

  const r = recognise(packs, input.text, preferred);
  switch (r.kind) {
    case 'language_choice':
      return { decision: { action: 'set_language', locale: r.locale } };
    case 'ambiguous_opt_out':
      // Already unsubscribed: no question, the short "already unsubscribed" answer (optOut says it).
      if (s.consent === 'opted_out') return { decision: { action: 'opt_out', source: 'keyword' }, locale: r.locale };
      // A template quick-reply the business labelled as an opt-out ("Stop promotions") is one.
      if (input.kind === 'button') return { decision: { action: 'opt_out', source: 'button' }, locale: r.locale };
      // Otherwise never an opt-out on a possible false positive, never ignored: one question with buttons.
      return { decision: { action: 'ask_opt_out' }, locale: r.locale };
    case 'unknown':
      return { decision: { action: 'unknown' }, replyLocale: r.locale };
    case 'intent':
      switch (r.intent) {
        case 'opt_out':
          return { decision: { action: 'opt_out', source: 'keyword' }, locale: r.locale };
        case 'opt_in':
          return { decision: { action: 'opt_in', source: 'keyword' }, locale: r.locale };
        case 'language':
          return { decision: { action: 'language_ask' }, locale: r.locale };
        case 'yes':
          // "yes" alone does not answer a question (only its buttons or their exact titles do):
          // the question is asked again.
          if (pending) return { decision: { action: 'reask' } };
          return { decision: { action: 'unknown' } };
        case 'no':
          // Declining is safe in every case: it changes nothing.
          if (pending === 'erasure') return { decision: { action: 'cancel_erasure' } };
          if (pending === 'opt_out_question') return { decision: { action: 'decline_opt_out' } };
          return { decision: { action: 'unknown' } };
        default:
          return { decision: { action: r.intent }, locale: r.locale };
      }
  }
}

/** The text (or reply id) of a WhatsApp message, by type (https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Meta's message item, narrowed per type below
export function inputOf(m: Record<string, any>): Input {
  const kind = String(m.type ?? 'unknown');
  switch (kind) {
    case 'text':
      return { kind, text: String(m.text?.body ?? '') };
    case 'interactive': {
      const reply = m.interactive?.button_reply ?? m.interactive?.list_reply;
      return { kind, buttonId: reply?.id, text: reply?.title };
    }
    case 'button':
      // Template quick-reply: the payload is ours when the template set one, else the title.
      return { kind, buttonId: m.button?.payload, text: m.button?.text ?? m.button?.payload };
    case 'image':
    case 'video':
    case 'document':
      // A caption is what the person typed: "STOP" under a photo is a STOP.
      return { kind, text: typeof m[kind]?.caption === 'string' && m[kind].caption.trim() ? String(m[kind].caption) : undefined };
    default:
      // Reactions, locations, stickers, unsupported types: no text to read.
      return { kind };
  }
}
