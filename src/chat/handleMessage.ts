import type { Deps } from '../deps';
import type { ClaimedItem } from '../inbox/worker';
import { enqueueReplies } from '../outbox/enqueue';
import { cancelErasure, confirmErasure, requestErasure } from '../rights/erasure';
import { exportData } from '../rights/exportData';
import { help } from '../rights/help';
import { askLanguage, setLanguage } from '../rights/language';
import { optIn } from '../rights/optIn';
import { optOut } from '../rights/optOut';
import { outcome, text, type Outcome } from '../rights/outcome';
import { status } from '../rights/status';
import { recipientOf, touchSubscriber, type Subscriber } from '../rights/subscribers';
import { changeNumber } from '../rights/changeNumber';
import { decide, inputOf, type Decision, type Input } from './decide';
import { normalise } from './normalise';
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
  const contact = item.payload.contact;
  const waId: string | undefined = m.from || contact?.wa_id || undefined;
  const bsuid: string | undefined = m.from_user_id || contact?.user_id || undefined;
  if (m.type === 'system') {
    const newWaId = String(m.system?.wa_id ?? '');
    if (m.system?.type === 'user_changed_number' && waId && /^\d{6,20}$/.test(newWaId)) await changeNumber(deps, waId, newWaId);
    return;
  }
  const at = Number(m.timestamp) > 0 ? new Date(Number(m.timestamp) * 1000) : deps.clock.now();
  const s = await touchSubscriber(deps, { waId, bsuid }, { name: contact?.profile?.name, at });
  const input = typedButton(deps, s, inputOf(m));
  const preferred = [s.locale, deps.config.defaultLocale].filter(Boolean) as Locale[];
  const { decision, locale: detected } = decide(packs, s, input, preferred, deps.clock.now());

  await deps.models.Message.collection
    .insertOne({
      _id: item.id as never,
      subscriberId: s._id,
      direction: 'in',
      kind: input.kind,
      textEnc: input.text ? deps.pii.encrypt(input.text) : null,
      intent: decision.action,
      by: 'subscriber',
      status: null,
      at,
    })
    .catch((err: { code?: number }) => {
      if (err.code !== 11000) throw err;
    });
  deps.bus.emit('conversation', String(s._id));

  // Reply in the language the keyword was written in, and remember it.
  if (detected && detected !== s.locale) await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { locale: detected } });
  const result = await carryOut(deps, s, decision, item.id);
  const locale = result.locale ?? detected ?? s.locale ?? deps.config.defaultLocale;
  deps.log.child({ module: 'chat' }).info({ item: item.id, subscriber: s.key.slice(0, 12), action: decision.action, outcome: result.kind, locale }, 'message handled');
  if (result.replies.length === 0) return;
  await enqueueReplies(deps, { keyPrefix: item.id, subscriberId: s._id, toEnc: recipientOf(deps, s), locale, category: 'rights', replies: result.replies });
  await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { unanswered: false } });
}

/**
 * Someone who types the title of a button we just offered ("Cancel", "Yes, erase") means the
 * button: while an erasure or an opt-out question waits, that beats keyword matching ("cancel"
 * is also an English opt-out word).
 */
function typedButton(deps: Deps, s: Subscriber, input: Input): Input {
  const kind = s.pending?.kind;
  if (!input.text || input.buttonId || !kind) return input;
  const locale = s.locale ?? deps.config.defaultLocale;
  const offered = kind === 'erasure' ? ['erase.yes', 'erase.no'] : kind === 'opt_out_question' ? ['optout.yes', 'optout.no'] : [];
  const titleKey = (id: string) => (id.startsWith('erase.') ? id : id === 'optout.yes' ? 'optOut.questionYes' : 'optOut.questionNo');
  const typed = normalise(input.text);
  const match = offered.find((id) => normalise(deps.i18n.t(locale, titleKey(id))) === typed);
  return match ? { ...input, buttonId: match } : input;
}

async function carryOut(deps: Deps, s: Subscriber, d: Decision, requestId: string): Promise<Outcome> {
  const channel = 'chat';
  switch (d.action) {
    case 'opt_out':
      return optOut(deps, s, { requestId, source: d.source, channel });
    case 'opt_in':
      return optIn(deps, s, { requestId, source: d.source, channel });
    case 'help':
      return help();
    case 'my_data':
      return exportData(deps, s, { requestId, channel });
    case 'delete':
      return requestErasure(deps, s, { requestId, channel });
    case 'confirm_erasure':
      return confirmErasure(deps, s, { answerId: requestId });
    case 'cancel_erasure':
      return cancelErasure(deps, s);
    case 'status':
      return status(deps, s);
    case 'language_ask':
      return askLanguage();
    case 'set_language':
      return setLanguage(deps, s, d.locale);
    case 'ask_opt_out':
      await deps.models.Subscriber.updateOne(
        { _id: s._id },
        { $set: { pending: { kind: 'opt_out_question', requestId, expiresAt: new Date(deps.clock.now().getTime() + QUESTION_VALID_MS) } } },
      );
      return outcome('opt_out_asked', {
        kind: 'buttons',
        key: 'optOut.question',
        buttons: [
          { id: 'optout.yes', titleKey: 'optOut.questionYes' },
          { id: 'optout.no', titleKey: 'optOut.questionNo' },
        ],
      });
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
