import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { Deps } from '../deps';
import { enqueueReplies, enqueueText } from '../outbox/enqueue';
import { securitySignal } from '../privacy/alerts';
import { collectSubjectData } from '../rights/exportData';
import { optOut } from '../rights/optOut';
import { openField, recipientOf, senderOf, type Subscriber } from '../rights/subscribers';
import { at } from '../privacy/pii';
import { audit } from './audit';
import type { StaffView } from './accounts';
import { maskNumber } from './roles';

const DAY = 86_400_000;

function numberOf(deps: Deps, s: Subscriber): string | null {
  const waId = openField(deps, s, 'waIdEnc');
  return waId ? `+${waId}` : null;
}

/** Why a number is shown: a fixed vocabulary in the chained audit log; free text goes to a sealed note. */
export const REVEAL_REASONS = ['person_request', 'delivery_problem', 'legal_obligation', 'fraud_investigation', 'other'] as const;
export type RevealReason = (typeof REVEAL_REASONS)[number];

async function load(deps: Deps, id: string): Promise<Subscriber | null> {
  if (!Types.ObjectId.isValid(id)) return null;
  return (await deps.models.Subscriber.findById(id).lean()) as Subscriber | null;
}

function daysLeft(deps: Deps, due: Date): number {
  return Math.ceil((due.getTime() - deps.clock.now().getTime()) / DAY);
}

/** The console's list: newest activity first, numbers masked, open requests with days left. */
export async function listConversations(deps: Deps, opts: { limit?: number } = {}) {
  const subs = (await deps.models.Subscriber.find({}).sort({ lastActivityAt: -1 }).limit(opts.limit ?? 100).lean()) as Subscriber[];
  const open = await deps.models.Request.find({ subscriberToken: { $in: subs.map((s) => s.key) }, state: 'open' }).lean();
  const now = deps.clock.now();
  return subs.map((s) => ({
    id: String(s._id),
    number: maskNumber(numberOf(deps, s)),
    name: openField(deps, s, 'nameEnc'),
    consent: s.consent,
    locale: s.locale ?? null,
    paused: Boolean(s.pausedByStaff),
    unanswered: Boolean(s.unanswered),
    windowOpen: Boolean(s.windowUntil && s.windowUntil > now),
    lastActivityAt: s.lastActivityAt,
    openRequests: open.filter((r) => r.subscriberToken === s.key).map((r) => ({ id: r._id, type: r.type, dueAt: r.dueAt, daysLeft: daysLeft(deps, r.dueAt) })),
  }));
}

/** One conversation with everything staff may see about the person (number still masked). */
export async function conversation(deps: Deps, id: string) {
  const s = await load(deps, id);
  if (!s) return null;
  const m = deps.models;
  const [messages, consents, requests, suppressed] = await Promise.all([
    // Ties (a reply stamped in the same millisecond as the message it answers): inbound first.
    m.Message.find({ subscriberId: s._id }).sort({ at: -1, direction: -1 }).limit(300).lean(),
    m.Consent.find({ subscriberId: s._id }).sort({ at: 1 }).lean(),
    m.Request.find({ subscriberToken: s.key }).sort({ receivedAt: -1 }).lean(),
    m.Suppression.exists({ _id: s.key }),
  ]);
  const now = deps.clock.now();
  return {
    id: String(s._id),
    number: maskNumber(numberOf(deps, s)),
    name: openField(deps, s, 'nameEnc'),
    consent: s.consent,
    consentAt: s.consentAt ?? null,
    locale: s.locale ?? null,
    paused: Boolean(s.pausedByStaff),
    windowUntil: s.windowUntil ?? null,
    windowOpen: Boolean(s.windowUntil && s.windowUntil > now),
    suppressed: Boolean(suppressed),
    consentHistory: consents.map((c) => ({ action: c.action, source: c.source, detail: c.detailEnc ? deps.pii.decrypt(c.detailEnc, at('consents', 'detailEnc', c._id)) : null, at: c.at })),
    requests: requests.map((r) => ({ id: r._id, type: r.type, channel: r.channel, state: r.state, receivedAt: r.receivedAt, dueAt: r.dueAt, regime: r.regime, daysLeft: r.state === 'open' ? daysLeft(deps, r.dueAt) : null, outcome: r.outcome })),
    messages: messages.reverse().map((x) => ({
      id: x._id,
      direction: x.direction,
      kind: x.kind,
      text: x.textEnc ? deps.pii.decrypt(x.textEnc, at('messages', 'textEnc', x._id)) : null,
      intent: x.intent ?? null,
      by: x.by,
      status: x.status ?? null,
      at: x.at,
    })),
  };
}

/** Rights requests across subscribers, for the compliance view; pseudonymous, with due dates. */
export async function listRequests(deps: Deps, f: { type?: string; state?: string; overdue?: boolean }) {
  const q: Record<string, unknown> = {};
  if (f.type) q.type = f.type;
  if (f.state) q.state = f.state;
  if (f.overdue) Object.assign(q, { state: 'open', dueAt: { $lt: deps.clock.now() } });
  const rows = await deps.models.Request.find(q).sort({ dueAt: 1 }).limit(500).lean();
  const subs = await deps.models.Subscriber.find({ key: { $in: [...new Set(rows.map((r) => r.subscriberToken))] } }, { key: 1 }).lean();
  const byToken = new Map(subs.map((s) => [s.key, String(s._id)]));
  return rows.map((r) => ({
    id: r._id,
    type: r.type,
    channel: r.channel,
    state: r.state,
    regime: r.regime,
    receivedAt: r.receivedAt,
    dueAt: r.dueAt,
    doneAt: r.doneAt ?? null,
    outcome: r.outcome ?? null,
    overdue: r.state === 'open' && r.dueAt < deps.clock.now(),
    daysLeft: r.state === 'open' ? daysLeft(deps, r.dueAt) : null,
    conversationId: byToken.get(r.subscriberToken) ?? null, // null once erased
  }));
}

export type ActionOutcome<T = object> = ({ kind: 'ok' } & T) | { kind: 'not_found' } | { kind: 'refused'; reason: string };

/** Why a number is shown, as the audit keeps it: a code, and free text only as a sealed note. */
function revealReason(why: { reason: string; note?: string }): { code: RevealReason; note: string } | null {
  // A reason code, or a stated reason in words (kept as the sealed note under "other").
  const code = (REVEAL_REASONS as readonly string[]).includes(why.reason) ? (why.reason as RevealReason) : 'other';
  const note = (code === 'other' && why.reason !== 'other' ? why.reason : (why.note ?? '')).trim();
  return code === 'other' && note.length < 5 ? null : { code, note: note.slice(0, 300) };
}

/** Shows the full number to an agent who states why; every reveal is audited and counted. */
export async function reveal(deps: Deps, by: StaffView, id: string, why: { reason: string; note?: string }): Promise<ActionOutcome<{ number: string | null }>> {
  const s = await load(deps, id);
  if (!s) return { kind: 'not_found' };
  const reason = revealReason(why);
  if (!reason) return { kind: 'refused', reason: 'state a reason (at least 5 characters)' };
  await audit(deps, { staffId: by.id, action: 'reveal', subscriberToken: s.key, detail: reason.code, note: reason.note || null });
  securitySignal(deps, 'staff_reveal', { staff: by.id });
  return { kind: 'ok', number: numberOf(deps, s) };
}

/** A staff reply: free-form, so only inside the 24-hour customer-service window. */
export async function reply(deps: Deps, by: StaffView, id: string, text: string): Promise<ActionOutcome<{ messageId: string }>> {
  const s = await load(deps, id);
  if (!s) return { kind: 'not_found' };
  if (!s.windowUntil || s.windowUntil < deps.clock.now()) return { kind: 'refused', reason: 'the 24-hour window is closed: the person has to write first' };
  const messageId = `staff:${randomUUID()}`;
  await enqueueText(deps, { id: messageId, subscriberId: s._id, to: recipientOf(deps, s), from: senderOf(deps, s), category: 'service', text, by: `staff:${by.id}` });
  await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { unanswered: false, lastActivityAt: deps.clock.now() } });
  await audit(deps, { staffId: by.id, action: 'reply', subscriberToken: s.key });
  return { kind: 'ok', messageId };
}

export async function setPaused(deps: Deps, by: StaffView, id: string, paused: boolean): Promise<ActionOutcome> {
  const s = await load(deps, id);
  if (!s) return { kind: 'not_found' };
  await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { pausedByStaff: paused } });
  await audit(deps, { staffId: by.id, action: paused ? 'pause' : 'resume', subscriberToken: s.key });
  deps.bus.emit('conversation', String(s._id));
  return { kind: 'ok' };
}

/** The same opt-out as the chat's, recorded with its source (staff), confirmed to the person once. */
export async function staffOptOut(deps: Deps, by: StaffView, id: string, messageId?: string): Promise<ActionOutcome<{ outcome: string }>> {
  const s = await load(deps, id);
  if (!s) return { kind: 'not_found' };
  const requestId = `staff:${randomUUID()}`;
  const result = await optOut(deps, s, { requestId, source: 'staff', channel: 'staff', at: deps.clock.now(), detail: messageId ? `from message ${messageId}` : undefined });
  if (result.kind === 'opted_out') {
    await enqueueReplies(deps, { keyPrefix: requestId, subscriberId: s._id, to: recipientOf(deps, s), from: senderOf(deps, s), locale: s.locale ?? deps.config.defaultLocale, category: 'rights', replies: result.replies, by: `staff:${by.id}` });
  }
  await audit(deps, { staffId: by.id, action: 'opt_out', subscriberToken: s.key, detail: result.kind });
  return { kind: 'ok', outcome: result.kind };
}

/**
 * A person's data as JSON, e.g. to answer a request that arrived by email. It holds the full
 * number, so it is a reveal: a reason is required, it is audited and counted in the reveal alert.
 */
export async function exportSubject(deps: Deps, by: StaffView, id: string, why: { reason: string; note?: string }): Promise<ActionOutcome<{ data: unknown }>> {
  const s = await load(deps, id);
  if (!s) return { kind: 'not_found' };
  const reason = revealReason(why);
  if (!reason) return { kind: 'refused', reason: 'state a reason (at least 5 characters)' };
  const data = await collectSubjectData(deps, s);
  await audit(deps, { staffId: by.id, action: 'export', subscriberToken: s.key, detail: reason.code, note: reason.note || null });
  securitySignal(deps, 'staff_reveal', { staff: by.id, export: true });
  return { kind: 'ok', data };
}
