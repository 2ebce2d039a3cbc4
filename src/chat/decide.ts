import type { Subscriber } from '../rights/subscribers';
import { recognise, type KeywordPacks, type Locale } from './keywords';

/** What the person asked for, decided from their message and what we were waiting for. */
export type Decision =
  | { action: 'opt_out'; source: 'keyword' | 'button' }
  | { action: 'opt_in'; source: 'keyword' | 'button' }
  | { action: 'help' | 'my_data' | 'delete' | 'status' | 'language_ask' | 'confirm_erasure' | 'cancel_erasure' | 'decline_opt_out' | 'ask_opt_out' }
  | { action: 'set_language'; locale: Locale }
  | { action: 'unknown' }
  | { action: 'none' };

export interface Input {
  text?: string;
  buttonId?: string;
  kind: string;
}

/** Reply-button and list-row ids we send (i18n/render.ts) mapped back to actions. */
const BUTTONS: Record<string, Decision> = {
  'erase.yes': { action: 'confirm_erasure' },
  'erase.no': { action: 'cancel_erasure' },
  'optout.yes': { action: 'opt_out', source: 'button' },
  'optout.no': { action: 'decline_opt_out' },
  'help.stop': { action: 'opt_out', source: 'button' },
  'help.start': { action: 'opt_in', source: 'button' },
  'help.my_data': { action: 'my_data' },
  'help.delete': { action: 'delete' },
  'help.status': { action: 'status' },
  'help.language': { action: 'language_ask' },
};

export function decide(packs: KeywordPacks, s: Subscriber, input: Input, preferred: Locale[], now: Date): { decision: Decision; locale?: Locale } {
  if (input.buttonId) {
    const lang = /^lang\.([a-z]{2})$/.exec(input.buttonId);
    if (lang) return { decision: { action: 'set_language', locale: lang[1] as Locale } };
    const known = BUTTONS[input.buttonId];
    if (known) return { decision: known };
  }
  if (!input.text) return { decision: input.kind === 'reaction' ? { action: 'none' } : { action: 'unknown' } };

  const pending = s.pending && (!s.pending.expiresAt || s.pending.kind === 'erasure' || s.pending.expiresAt > now) ? s.pending.kind : null;
  const r = recognise(packs, input.text, preferred);
  switch (r.kind) {
    case 'language_choice':
      return { decision: { action: 'set_language', locale: r.locale } };
    case 'ambiguous_opt_out':
      // A template quick-reply the business labelled as an opt-out ("Stop promotions") is one.
      if (input.kind === 'button') return { decision: { action: 'opt_out', source: 'button' }, locale: r.locale };
      // Otherwise never an opt-out on a possible false positive, never ignored: one question with buttons.
      return { decision: { action: 'ask_opt_out' }, locale: r.locale };
    case 'unknown':
      return { decision: { action: 'unknown' } };
    case 'intent':
      switch (r.intent) {
        case 'opt_out':
          return { decision: { action: 'opt_out', source: 'keyword' }, locale: r.locale };
        case 'opt_in':
          return { decision: { action: 'opt_in', source: 'keyword' }, locale: r.locale };
        case 'language':
          return { decision: { action: 'language_ask' }, locale: r.locale };
        case 'yes':
          if (pending === 'erasure') return { decision: { action: 'confirm_erasure' } };
          if (pending === 'opt_out_question') return { decision: { action: 'opt_out', source: 'button' } };
          return { decision: { action: 'unknown' } };
        case 'no':
          if (pending === 'erasure') return { decision: { action: 'cancel_erasure' } };
          if (pending === 'opt_out_question') return { decision: { action: 'decline_opt_out' } };
          return { decision: { action: 'unknown' } };
        default:
          return { decision: { action: r.intent }, locale: r.locale };
      }
  }
}

/** The text (or reply id) of a WhatsApp message, by type (Meta "Webhooks › messages"). */
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
    default:
      // Media, reactions, locations, unsupported types: no keyword to read (a caption is not a command).
      return { kind };
  }
}
