import type { Deps } from '../deps';
import type { ClaimedItem } from '../inbox/worker';
import { enqueueReplies, recordLine } from '../outbox/enqueue';
import { cancelErasure, confirmErasure, reaskErasure, requestErasure } from '../rights/erasure';
import { exportData } from '../rights/exportData';
import { help } from '../rights/help';
import { askLanguage, setLanguage } from '../rights/language';
import { optIn } from '../rights/optIn';
import { optOut } from '../rights/optOut';
import { outcome, text, type Outcome } from '../rights/outcome';
import { status } from '../rights/status';
import { recipientOf, senderOf, touchSubscriber, type Subscriber } from '../rights/subscribers';
import { questionButtons, questionId as questionIdOf } from '../rights/questions';
import { changeNumber } from '../rights/changeNumber';
import { decide, inputOf, type Decision, type Input } from './decide';
import { normalise } from './normalise';
import { SANDBOX_NUMBER } from '../config';
import { localeOfNumber } from './countryLocale';
import type { KeywordPacks, Locale } from './keywords';

const HINT_EVERY_MS = 24 * 3600_000;
const QUESTION_VALID_MS = 24 * 3600_000;

/**
 * One inbound WhatsApp message: who sent it, what they asked, the use case that carries it out,
 * and the replies (queued durably under keys derived from this inbox item, so a replay sends
 * nothing twice).
 */
export async function handleMessage(deps: Deps, packs: KeywordPacks, item: ClaimedItem): Promise<void> {
  const m = item.payload.item;
  // The sender is the message's own `from` / `from_user_id`; the contact (explode.ts keeps only
  // one that names this same sender) supplies nothing but the profile name.
  const contact = item.payload.contact;
  const waId: string | undefined = m.from || contact?.wa_id || undefined;
  const bsuid: string | undefined = m.from_user_id || contact?.user_id || undefined;
  if (m.type === 'system') {
    const newWaId = String(m.system?.wa_id ?? '');
    if (m.system?.type === 'user_changed_number' && waId && /^\d{6,20}$/.test(newWaId)) await changeNumber(deps, waId, newWaId);
    return;
  }
  const at = Number(m.timestamp) > 0 ? new Date(Number(m.timestamp) * 1000) : deps.clock.now();
  // The simulator's messages carry the 'sandbox' business number (sandbox/router.ts): their people are its own.
  const origin = item.payload.phoneNumberId === SANDBOX_NUMBER ? 'sandbox' : 'whatsapp';
  const s = await touchSubscriber(deps, { waId, bsuid }, { name: contact?.profile?.name, at, businessNumberId: item.payload.phoneNumberId, origin });
  if (!s) {
    deps.log.child({ module: 'chat' }).info({ item: item.id, origin }, 'message not processed: written before the sender\'s erasure, or a sandbox message for someone else');
    return;
  }
  const input = typedButton(deps, s, inputOf(m));
  // Words that exist in several languages are read in the person's remembered language, else their
  // number's country's, else the deployment's.
  const countryLocale = localeOfNumber(waId, deps.config.countryLocales);
  const preferred = [s.locale, countryLocale, deps.config.defaultLocale].filter(Boolean) as Locale[];
  const { decision, locale: detected } = decide(packs, s, input, preferred, deps.clock.now());

  await recordLine(deps, { id: item.id, subscriberId: s._id, direction: 'in', kind: input.kind, display: input.text, intent: decision.action, by: 'subscriber', status: null, at });

  // Reply in the language the keyword was written in, and remember it.
  if (detected && detected !== s.locale) await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { locale: detected } });
  const result = await carryOut(deps, s, decision, item.id, at);
  const locale = result.locale ?? detected ?? s.locale ?? countryLocale ?? deps.config.defaultLocale;
  deps.log.child({ module: 'chat' }).info({ item: item.id, subscriber: s.key.slice(0, 12), action: decision.action, outcome: result.kind, locale }, 'message handled');
  if (result.replies.length === 0) return;
  // A message that reaches us after its 24-hour window (a late redelivery) can be answered only with
  // the utility template; without one nothing doomed is queued: the action stands, and staff see the
  // confirmation as "could not confirm".
  // With a template, only the first reply goes (as that template, outbox/worker.ts): documents and
  // buttons cannot travel outside the window, and one notice is enough.
  const windowOpen = Boolean(s.windowUntil && s.windowUntil > deps.clock.now());
  const sendable = windowOpen ? result.replies : deps.config.graph.utilityTemplate ? result.replies.slice(0, 1) : [];
  const common = { subscriberId: s._id, to: recipientOf(deps, s), from: senderOf(deps, s), locale, category: 'rights' as const };
  if (sendable.length) await enqueueReplies(deps, { ...common, keyPrefix: item.id, replies: sendable });
  const rest = result.replies.slice(sendable.length);
  if (rest.length) await enqueueReplies(deps, { ...common, keyPrefix: `${item.id}:late`, replies: rest, unsendable: true });
  await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { unanswered: false } });
}

/**
 * Someone who types the exact title of a button we just offered ("Cancel", "Yes, erase") in their
 * language means that button: while a question waits, that beats keyword matching ("cancel" is
 * also an English opt-out word). Only typed text counts: a button of someone else's message with
 * the same title is not ours.
 */
function typedButton(deps: Deps, s: Subscriber, input: Input): Input {
  const kind = s.pending?.kind;
  if (input.kind !== 'text' || !input.text || input.buttonId || (kind !== 'erasure' && kind !== 'opt_out_question') || !s.pending?.questionId) return input;
  const locale = s.locale ?? deps.config.defaultLocale;
  const typed = normalise(input.text);
  const match = questionButtons(kind, s.pending.questionId).find((b) => normalise(deps.i18n.t(locale, b.titleKey)) === typed);
  return match ? { ...input, buttonId: match.id } : input;
}

async function carryOut(deps: Deps, s: Subscriber, d: Decision, requestId: string, at: Date): Promise<Outcome> {
  const channel = 'chat';
  switch (d.action) {
    case 'opt_out':
      return optOut(deps, s, { requestId, source: d.source, channel, at });
    case 'opt_in':
      return optIn(deps, s, { requestId, source: d.source, channel, at });
    case 'help':
      return help();
    case 'my_data':
      return exportData(deps, s, { requestId, channel });
    case 'delete':
      return requestErasure(deps, s, { requestId, channel });
    case 'confirm_erasure':
      return confirmErasure(deps, s);
    case 'cancel_erasure':
      return cancelErasure(deps, s);
    case 'stale_erasure_answer':
      return outcome('erasure_nothing_pending', text('erase.nothingPending'));
    case 'reask':
      return s.pending?.kind === 'erasure' && s.pending.requestId ? reaskErasure(deps, s) : askOptOut(deps, s, s.pending?.requestId ?? requestId);
    case 'status':
      return status(deps, s);
    case 'language_ask':
      return askLanguage();
    case 'set_language':
      return setLanguage(deps, s, d.locale);
    case 'ask_opt_out':
      return askOptOut(deps, s, requestId);
    case 'decline_opt_out':
      await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { pending: null } });
      return outcome('opt_out_declined', text('optOut.declined'));
    case 'unknown': {
      // One hint per 24 h (a replay of the hinted message hints again; the outbox dedupes it).
      // The message stays in the conversation for staff either way.
      const now = deps.clock.now();
      const replay = s.hintRequestId === requestId;
      const recent = s.hintSentAt && now.getTime() - s.hintSentAt.getTime() < HINT_EVERY_MS;
      if (!replay && (s.pausedByStaff || recent)) return outcome('unknown_quiet');
      await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { hintSentAt: now, hintRequestId: requestId } });
      return outcome('unknown_hinted', text('hint.unknown'));
    }
    case 'none':
      return outcome('none');
  }
}

async function askOptOut(deps: Deps, s: Subscriber, requestId: string): Promise<Outcome> {
  const questionId = questionIdOf(deps, requestId);
  await deps.models.Subscriber.updateOne(
    { _id: s._id },
    { $set: { pending: { kind: 'opt_out_question', requestId, questionId, expiresAt: new Date(deps.clock.now().getTime() + QUESTION_VALID_MS) } } },
  );
  return outcome('opt_out_asked', { kind: 'buttons', key: 'optOut.question', buttons: questionButtons('opt_out_question', questionId) });
}
