import { cancelErasure, confirmErasure, reaskErasure, requestErasure } from '../rights/erasure';
import { exportData } from '../rights/exportData';
import { help } from '../rights/help';
import { askLanguage, setLanguage } from '../rights/language';
import { optIn } from '../rights/optIn';
import { optOut } from '../rights/optOut';
import { outcome, text, type Outcome } from '../rights/outcome';
import { encodeButtonId } from '../messages/buttonIds';
import { questionButtons, questionId as questionIdOf } from '../rights/questions';
import { status } from '../rights/status';
import { changeNumber } from '../rights/changeNumber';
import type { RightsContext } from '../rights/context';
import { touchSubscriber } from '../rights/subscribers';
import type { Subscriber } from '../store/subscriberStore';
import type { InboundPayload } from '../store/inboxStore';
import { localeOfNumber } from './countryLocale';
import { decide, inputOf, type Decision, type Input } from './decide';
import type { Locale } from '../i18n/locales';
import type { KeywordPacks } from './keywordPacks';
import { normalise } from './normalise';

const HINT_EVERY_MS = 24 * 3600_000;
const QUESTION_VALID_MS = 24 * 3600_000;

/** One message's turn: who wrote, what was understood and done, and the replies to queue (by the caller). */
export interface Turn {
  /** The person, as this turn read and refreshed them at `readAt`. */
  subscriber: Subscriber;
  readAt: Date;
  outcome: Outcome;
  /** The language to answer in. */
  locale: string;
  /** What the message was understood as (for the log; the outcome says what was done). */
  action: Decision['action'];
}

/**
 * One inbound WhatsApp message: who sent it, what they asked, and the use case that carries it
 * out. The caller queues the replies (inbox/handleItem.ts) under keys derived from this inbox item,
 * so a replay sends nothing twice. Null when there is no one to answer (a system message, or a
 * message written before its sender's erasure).
 */
export async function handleMessage(ctx: RightsContext, packs: KeywordPacks, item: { id: string; payload: InboundPayload }): Promise<Turn | null> {
  const m = item.payload.item;
  // The sender is the message's own `from` / `from_user_id`; the contact (webhook/explode.ts keeps
  // only one that names this same sender) supplies nothing but the profile name.
  const contact = item.payload.contact;
  const waId: string | undefined = m.from || contact?.wa_id || undefined;
  const bsuid: string | undefined = m.from_user_id || contact?.user_id || undefined;
  if (m.type === 'system') {
    const newWaId = String(m.system?.wa_id ?? '');
    if (m.system?.type === 'user_changed_number' && waId && /^\d{6,20}$/.test(newWaId)) await changeNumber(ctx, waId, newWaId);
    return null;
  }
  const at = Number(m.timestamp) > 0 ? new Date(Number(m.timestamp) * 1000) : ctx.clock.now();
  // The simulator's messages carry the 'sandbox' business number (sandbox/router.ts): their people are its own.
  const origin = item.payload.phoneNumberId === ctx.policy.sandboxNumber ? 'sandbox' : 'whatsapp';
  const readAt = ctx.clock.now();
  const s = await touchSubscriber(ctx, { waId, bsuid }, { name: contact?.profile?.name, at, businessNumberId: item.payload.phoneNumberId, origin });
  if (!s) return null;
  try {
    return await turnOf(ctx, packs, item, s, { waId, at, readAt });
  } catch (err) {
    // The refresh of the profile waits for the turn's next write; a failed turn is retried whole.
    ctx.subscribers.discard(s._id);
    throw err;
  }
}

async function turnOf(
  ctx: RightsContext,
  packs: KeywordPacks,
  item: { id: string; payload: InboundPayload },
  s: Subscriber,
  m0: { waId: string | undefined; at: Date; readAt: Date },
): Promise<Turn> {
  const m = item.payload.item;
  const { waId, at, readAt } = m0;
  const typed = typedButton(ctx, s, inputOf(m));
  // Words that exist in several languages are read in the person's remembered language, else their
  // number's country's, else the deployment's.
  const countryLocale = localeOfNumber(waId, ctx.policy.countryLocales as Record<string, Locale>);
  const preferred = [s.locale, countryLocale, ctx.policy.defaultLocale].filter(Boolean) as Locale[];
  // An opt-in link's prefilled message carries its source ("START #k3f9q2xa"). It is read without
  // the code only when the code is a link's and what is left is an opt-in: any other hashtag (an
  // order number after "resume", "stop #weekends") is read as written.
  let input = typed;
  let linkCode: string | undefined;
  const ref = typed.kind === 'text' ? sourceRefIn(typed.text) : null;
  if (ref && (await ctx.optInSources.byCode(ref.code))) {
    const without = { ...typed, text: ref.rest };
    if (decide(packs, s, without, preferred, ctx.clock.now()).decision.action === 'opt_in') {
      input = without;
      linkCode = ref.code;
    }
  }
  const { decision, locale: detected, replyLocale } = decide(packs, s, input, preferred, ctx.clock.now());
  // Every action but these answers: the replies' places go with the turn's first write.
  if (decision.action !== 'none' && decision.action !== 'unknown') ctx.subscribers.expectAnswer(s, ctx.clock.now().getTime() * 100);

  await ctx.conversation.record({
    id: item.id,
    subscriberId: s._id,
    direction: 'in',
    kind: input.kind,
    display: typed.text,
    intent: decision.action,
    by: 'subscriber',
    status: null,
    at,
  });

  // Reply in the language the keyword was written in, and remember it.
  if (detected && detected !== s.locale) await ctx.subscribers.setLocale(s._id, detected);
  const result = await carryOut(ctx, s, decision, item.id, at, linkCode);
  return {
    subscriber: s,
    readAt,
    outcome: result,
    action: decision.action,
    locale: result.locale ?? detected ?? s.locale ?? replyLocale ?? countryLocale ?? ctx.policy.defaultLocale,
  };
}

/**
 * Someone who types the exact title of a button we just offered ("Cancel", "Yes, erase") in their
 * language means that button: while a question waits, that beats keyword matching ("cancel" is
 * also an English opt-out word). Only typed text counts: a button of someone else's message with
 * the same title is not ours.
 */
function typedButton(ctx: Pick<RightsContext, 'policy' | 'translate'>, s: Subscriber, input: Input): Input {
  const kind = s.pending?.kind;
  if (input.kind !== 'text' || !input.text || input.buttonId || (kind !== 'erasure' && kind !== 'opt_out_question') || !s.pending?.questionId) return input;
  const locale = s.locale ?? ctx.policy.defaultLocale;
  const typed = normalise(input.text);
  const match = questionButtons(kind, s.pending.questionId).find((b) => normalise(ctx.translate(locale, b.titleKey)) === typed);
  return match ? { ...input, buttonId: encodeButtonId(match.id) } : input;
}

async function carryOut(ctx: RightsContext, s: Subscriber, d: Decision, requestId: string, at: Date, linkCode?: string): Promise<Outcome> {
  const channel = 'chat';
  switch (d.action) {
    case 'opt_out':
      return optOut(ctx, s, { requestId, source: d.source, channel, at });
    case 'opt_in':
      return optIn(ctx, s, { requestId, source: linkCode ? 'link' : d.source, channel, at, sourceRef: linkCode });
    case 'help':
      return help();
    case 'my_data':
      return exportData(ctx, s, { requestId, channel });
    case 'delete':
      return requestErasure(ctx, s, { requestId, channel });
    case 'confirm_erasure':
      return confirmErasure(ctx, s);
    case 'cancel_erasure':
      return cancelErasure(ctx, s);
    case 'stale_erasure_answer':
      return outcome('erasure_nothing_pending', text('erase.nothingPending'));
    case 'reask':
      return s.pending?.kind === 'erasure' && s.pending.requestId ? reaskErasure(ctx, s) : askOptOut(ctx, s, s.pending?.requestId ?? requestId);
    case 'status':
      return status(ctx, s);
    case 'language_ask':
      return askLanguage(ctx);
    case 'set_language':
      return setLanguage(ctx, s, d.locale);
    case 'ask_opt_out':
      return askOptOut(ctx, s, requestId);
    case 'decline_opt_out':
      await ctx.subscribers.clearQuestion(s._id);
      return outcome('opt_out_declined', text('optOut.declined'));
    case 'unknown': {
      // One hint per 24 h (a replay of the hinted message hints again; the outbox dedupes it).
      // The message stays in the conversation for staff either way, marked for a human to read.
      const now = ctx.clock.now();
      // Dated when read, not by the message's own second: a dismissal covers exactly what staff could see.
      ctx.subscribers.flagForHuman(s._id, now);
      const replay = s.hintRequestId === requestId;
      const recent = s.hintSentAt && now.getTime() - s.hintSentAt.getTime() < HINT_EVERY_MS;
      if (!replay && (s.pausedByStaff || recent)) return outcome('unknown_quiet');
      await ctx.subscribers.markHinted(s._id, requestId, now);
      return outcome('unknown_hinted', text('hint.unknown'));
    }
    case 'none':
      return outcome('none');
  }
}

async function askOptOut(ctx: Pick<RightsContext, 'subscribers' | 'keys' | 'clock'>, s: Subscriber, requestId: string): Promise<Outcome> {
  const questionId = questionIdOf(ctx.keys, requestId);
  await ctx.subscribers.ask(s._id, { kind: 'opt_out_question', requestId, questionId, expiresAt: new Date(ctx.clock.now().getTime() + QUESTION_VALID_MS) });
  return outcome('opt_out_asked', { kind: 'buttons', key: 'optOut.question', buttons: questionButtons('opt_out_question', questionId) });
}

/** `#` and an opt-in link's code, anywhere in a text: the code, and the text without it. */
export function sourceRefIn(text: string | undefined): { code: string; rest: string } | null {
  const m = text?.match(/(^|\s)#([a-z0-9]{8})[.!?,;:]*(?=\s|$)/i);
  if (!text || !m) return null;
  return { code: m[2].toLowerCase(), rest: `${text.slice(0, m.index)} ${text.slice(m.index! + m[0].length)}`.replace(/\s+/g, ' ').trim() };
}
