import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { Deps } from '../deps';
import { enqueueReplies, enqueueText } from '../outbox/enqueue';
import { securitySignal } from '../privacy/alerts';
import { collectSubjectData } from '../rights/subjectExport';
import { optOut } from '../rights/optOut';
import { eraseOnRequest } from '../rights/erasure';
import { closeOnStaffDecision, type CloseReason } from '../rights/ledger';
import { senderOf } from '../rights/subscribers';
import { windowOpen, type Subscriber } from '../store/subscriberStore';
import type { StaffView } from './accounts';
import { maskNumber } from './roles';

const DAY = 86_400_000;

function numberOf(deps: Deps, s: Subscriber): string | null {
  const waId = deps.stores.subscribers.open(s, 'waIdEnc');
  return waId ? `+${waId}` : null;
}

/** Why a number is shown: a fixed vocabulary in the chained audit log; free text goes to a sealed note. */
export const REVEAL_REASONS = ['person_request', 'delivery_problem', 'legal_obligation', 'fraud_investigation', 'other'] as const;
export type RevealReason = (typeof REVEAL_REASONS)[number];

async function load(deps: Deps, id: string): Promise<Subscriber | null> {
  if (!Types.ObjectId.isValid(id)) return null;
  return deps.stores.subscribers.byId(id);
}

function daysLeft(deps: Deps, due: Date): number {
  return Math.ceil((due.getTime() - deps.clock.now().getTime()) / DAY);
}

/** What the conversation list can be narrowed to (the console's filters and search). */
export interface ConversationFilter {
  needsHuman?: boolean;
  consent?: 'none' | 'opted_in' | 'opted_out';
  openRequests?: boolean;
  /** Part of the profile name, any case and accents. */
  q?: string;
  limit?: number;
}

// Names are sealed, so a search reads this many of the most recent conversations and matches in memory.
const SEARCH_DEPTH = 1000;

const folded = (v: string) => v.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase();

/** The console's list: newest activity first, numbers masked, open requests with days left, filtered. */
export async function listConversations(deps: Deps, f: ConversationFilter = {}) {
  const limit = f.limit ?? 100;
  const keys = f.openRequests ? [...new Set((await deps.stores.requests.list({ state: 'open' })).map((r) => r.subscriberToken))] : undefined;
  const found = await deps.stores.subscribers.recent({ limit: f.q ? SEARCH_DEPTH : limit, needsHuman: f.needsHuman, consent: f.consent, keys });
  const named = found.map((s) => ({ s, name: deps.stores.subscribers.open(s, 'nameEnc') }));
  const q = f.q ? folded(f.q.trim()) : '';
  const subs = (q ? named.filter((x) => x.name && folded(x.name).includes(q)) : named).slice(0, limit);
  const open = await deps.stores.requests.openOf(subs.map((x) => x.s.key));
  const now = deps.clock.now();
  return subs.map(({ s, name }) => ({
    id: String(s._id),
    number: maskNumber(numberOf(deps, s)),
    name,
    consent: s.consent,
    locale: s.locale ?? null,
    paused: Boolean(s.pausedByStaff),
    unanswered: Boolean(s.unanswered),
    needsHumanAt: s.needsHumanAt ?? null,
    windowOpen: windowOpen(s, now),
    lastActivityAt: s.lastActivityAt,
    openRequests: open.filter((r) => r.subscriberToken === s.key).map((r) => ({ id: r._id, type: r.type, dueAt: r.dueAt, daysLeft: daysLeft(deps, r.dueAt) })),
  }));
}

/** One conversation with everything staff may see about the person (number still masked). */
export async function conversation(deps: Deps, id: string) {
  const s = await load(deps, id);
  if (!s) return null;
  const { conversation: lines, consents: history, requests: asked, suppressions } = deps.stores;
  const [messages, consents, requests, suppressed] = await Promise.all([
    lines.linesOf(s._id, { newestFirst: true, limit: 300 }),
    history.historyOf(s._id),
    asked.ofPerson(s.key, { newestFirst: true }),
    suppressions.isSuppressed(s.key),
  ]);
  const now = deps.clock.now();
  // An opt-in through a link is shown with the link's name (staff/optInLinks.ts).
  const linkNames = new Map<string, string>();
  for (const code of new Set(consents.map((c) => c.sourceRef).filter((x): x is string => Boolean(x)))) {
    const source = await deps.stores.optInSources.byCode(code);
    if (source) linkNames.set(code, source.name);
  }
  return {
    id: String(s._id),
    number: maskNumber(numberOf(deps, s)),
    name: deps.stores.subscribers.open(s, 'nameEnc'),
    consent: s.consent,
    consentAt: s.consentAt ?? null,
    locale: s.locale ?? null,
    paused: Boolean(s.pausedByStaff),
    needsHumanAt: s.needsHumanAt ?? null,
    windowUntil: s.windowUntil ?? null,
    windowOpen: windowOpen(s, now),
    suppressed: Boolean(suppressed),
    consentHistory: consents.map((c) => ({
      action: c.action,
      source: c.source,
      detail: c.detail,
      link: c.sourceRef ? { code: c.sourceRef, name: linkNames.get(c.sourceRef) ?? null } : null,
      at: c.at,
    })),
    requests: requests.map((r) => ({
      id: r._id,
      type: r.type,
      channel: r.channel,
      state: r.state,
      receivedAt: r.receivedAt,
      dueAt: r.dueAt,
      regime: r.regime,
      daysLeft: r.state === 'open' ? daysLeft(deps, r.dueAt) : null,
      outcome: r.outcome,
    })),
    messages: messages.reverse().map((x) => ({
      id: x._id,
      direction: x.direction,
      kind: x.kind,
      text: x.text,
      intent: x.intent ?? null,
      by: x.by,
      status: x.status ?? null,
      at: x.at,
    })),
  };
}

/**
 * Rights requests across subscribers, for the compliance view, soonest due first, with due dates
 * and whose they are (the profile name and the masked number; nothing once the person is erased).
 */
export async function listRequests(deps: Deps, f: { type?: string; state?: string; overdue?: boolean }) {
  const rows = await deps.stores.requests.list({ type: f.type, state: f.state, overdueAt: f.overdue ? deps.clock.now() : undefined });
  const people = new Map<string, Subscriber>();
  for (const s of await deps.stores.subscribers.recent({ limit: 1000, keys: [...new Set(rows.map((r) => r.subscriberToken))] })) people.set(s.key, s);
  return rows.map((r) => {
    const s = people.get(r.subscriberToken);
    return {
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
      person: s ? { name: deps.stores.subscribers.open(s, 'nameEnc'), number: maskNumber(numberOf(deps, s)) } : null, // null once erased
      conversationId: s ? String(s._id) : null,
    };
  });
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
  await deps.stores.audit.append({ staffId: by.id, action: 'reveal', subscriberToken: s.key, detail: reason.code, note: reason.note || null });
  securitySignal(deps, 'staff_reveal', { staff: by.id });
  return { kind: 'ok', number: numberOf(deps, s) };
}

/** A staff reply: free-form, so only inside the 24-hour customer-service window. */
export async function reply(deps: Deps, by: StaffView, id: string, text: string): Promise<ActionOutcome<{ messageId: string }>> {
  // What the agent answers is what they could see when they sent: a message read after stays "needs a human".
  const seen = deps.clock.now();
  const s = await load(deps, id);
  if (!s) return { kind: 'not_found' };
  if (!windowOpen(s, deps.clock.now())) return { kind: 'refused', reason: 'the 24-hour window is closed: the person has to write first' };
  const messageId = `staff:${randomUUID()}`;
  await enqueueText(deps, {
    id: messageId,
    subscriberId: s._id,
    to: deps.stores.subscribers.recipientOf(s),
    from: senderOf(deps.rights, s),
    category: 'service',
    text,
    by: `staff:${by.id}`,
  });
  await deps.stores.subscribers.markAnswered(s._id, seen);
  await deps.stores.audit.append({ staffId: by.id, action: 'reply', subscriberToken: s.key });
  return { kind: 'ok', messageId };
}

export async function setPaused(deps: Deps, by: StaffView, id: string, paused: boolean): Promise<ActionOutcome> {
  const s = await load(deps, id);
  if (!s) return { kind: 'not_found' };
  await deps.stores.subscribers.setPaused(s._id, paused);
  await deps.stores.audit.append({ staffId: by.id, action: paused ? 'pause' : 'resume', subscriberToken: s.key });
  deps.bus.emit('conversation', String(s._id));
  return { kind: 'ok' };
}

/** The same opt-out as the chat's, recorded with its source (staff), confirmed to the person once. */
export async function staffOptOut(deps: Deps, by: StaffView, id: string, messageId?: string): Promise<ActionOutcome<{ outcome: string }>> {
  const s = await load(deps, id);
  if (!s) return { kind: 'not_found' };
  const requestId = `staff:${randomUUID()}`;
  const result = await optOut(deps.rights, s, {
    requestId,
    source: 'staff',
    channel: 'staff',
    at: deps.clock.now(),
    detail: messageId ? `from message ${messageId}` : undefined,
  });
  if (result.kind === 'opted_out') {
    await enqueueReplies(deps, {
      keyPrefix: requestId,
      subscriberId: s._id,
      to: deps.stores.subscribers.recipientOf(s),
      from: senderOf(deps.rights, s),
      locale: s.locale ?? deps.config.defaultLocale,
      category: 'rights',
      replies: result.replies,
      by: `staff:${by.id}`,
    });
  }
  await deps.stores.audit.append({ staffId: by.id, action: 'opt_out', subscriberToken: s.key, detail: result.kind });
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
  const data = await collectSubjectData(deps.rights, s);
  await deps.stores.audit.append({ staffId: by.id, action: 'export', subscriberToken: s.key, detail: reason.code, note: reason.note || null });
  securitySignal(deps, 'staff_reveal', { staff: by.id, export: true });
  return { kind: 'ok', data };
}

/** The person's message was seen to: no longer "needs a human" (a staff reply clears it too). */
export async function dismissNeedsHuman(deps: Deps, by: StaffView, id: string, seen?: Date): Promise<ActionOutcome> {
  const s = await load(deps, id);
  if (!s) return { kind: 'not_found' };
  if (!(await deps.stores.subscribers.dismissHuman(s._id, seen)))
    return { kind: 'refused', reason: 'the person wrote again since: read the new message first' };
  await deps.stores.audit.append({ staffId: by.id, action: 'dismiss', subscriberToken: s.key });
  deps.bus.emit('conversation', String(s._id));
  return { kind: 'ok' };
}

/** Closes an open request with a reason from the vocabulary; the free text stays a sealed note in the audit log. */
export async function closeRequestAsStaff(
  deps: Deps,
  by: StaffView,
  requestId: string,
  why: { reason: CloseReason; note?: string },
): Promise<ActionOutcome<{ state: string }>> {
  const r = await closeOnStaffDecision(deps.rights, requestId, why.reason);
  if (r.kind === 'not_found') return r;
  if (r.kind === 'not_open') return { kind: 'refused', reason: `the request is already ${r.state}` };
  if (r.kind === 'erasure_running') return { kind: 'refused', reason: 'the erasure is under way; it closes itself when done' };
  await deps.stores.audit.append({
    staffId: by.id,
    action: 'close_request',
    subscriberToken: r.subscriberToken,
    detail: why.reason,
    note: why.note?.trim() || null,
  });
  return { kind: 'ok', state: r.state };
}

/**
 * Erases a person's data on their documented request made elsewhere (an email, a letter): the
 * chat's own erasure, audited with where the request came from. The note is personal data about
 * the person, so like every note about them it goes with the erasure; the audit entry (who, when,
 * "documented request") stays in the chain.
 */
export async function eraseOnDocumentedRequest(deps: Deps, by: StaffView, id: string, why: { note: string }): Promise<ActionOutcome<{ requestId: string }>> {
  const s = await load(deps, id);
  if (!s) return { kind: 'not_found' };
  const note = why.note.trim();
  if (note.length < 5) return { kind: 'refused', reason: 'say where the request was made (at least 5 characters)' };
  // The person's own erasure, running or confirmed and about to run, is the one: refused before anything is audited.
  const running = await deps.stores.erasureJobs.runningFor(s._id);
  const waiting = s.pending?.kind === 'erasure' && s.pending.requestId ? await deps.stores.requests.get(s.pending.requestId) : null;
  if ((running && !running.startsWith('staff-erase:')) || waiting?.confirmedAt)
    return { kind: 'refused', reason: 'an erasure of this person is already under way' };
  // Audited first: the note is about the person, so the erasure deletes it with their other notes.
  await deps.stores.audit.append({ staffId: by.id, action: 'erase', subscriberToken: s.key, detail: 'documented_request', note });
  const r = await eraseOnRequest(deps.rights, s);
  if (r.kind === 'erasure_running') return { kind: 'refused', reason: 'an erasure of this person is already under way' };
  deps.bus.emit('conversation', String(s._id));
  return { kind: 'ok', requestId: r.requestId! };
}
