import type { RightsContext } from './context';
import { dueDate, type RequestType } from './regimes';

type Ctx = Pick<RightsContext, 'requests' | 'ledger' | 'clock'>;

/**
 * Opens (idempotently) the request record that STATUS, the console and audits read, with its due
 * date under the applicable regime, and notes its receipt in the chained ledger.
 */
export async function openRequest(ctx: Ctx, r: { id: string; subscriberToken: string; type: RequestType; channel: string; receivedAt?: Date }): Promise<void> {
  const receivedAt = r.receivedAt ?? ctx.clock.now();
  const { dueAt, regime } = dueDate(r.type, receivedAt);
  await ctx.requests.open({ id: r.id, subscriberToken: r.subscriberToken, type: r.type, channel: r.channel, receivedAt, dueAt, regime });
  await ctx.ledger.append({ requestId: r.id, subscriberToken: r.subscriberToken, event: `${r.type}.received`, detail: r.channel });
}

/** Closes a request (once) and notes how it ended in the ledger (a replay appends nothing). */
export async function closeRequest(
  ctx: Ctx,
  id: string,
  subscriberToken: string,
  state: 'done' | 'cancelled' | 'expired',
  outcome: string,
  type?: RequestType,
): Promise<void> {
  const closedType = (await ctx.requests.close(id, state, outcome, ctx.clock.now(), type)) ?? 'request';
  await ctx.ledger.append({ requestId: id, subscriberToken, event: `${closedType}.${state}`, detail: outcome });
}

/**
 * Closes a request that nobody confirmed (an erasure question lapsed, cancelled, superseded, or
 * closed by staff), unless a confirmation claimed it first; only the winner writes the ledger.
 * Returns whether it closed.
 */
export async function closeUnconfirmedRequest(
  ctx: Ctx,
  id: string,
  subscriberToken: string,
  state: 'cancelled' | 'expired',
  outcome: string,
  type: RequestType,
): Promise<boolean> {
  if (!(await ctx.requests.closeUnconfirmed(id, state, outcome, ctx.clock.now()))) return false;
  await ctx.ledger.append({ requestId: id, subscriberToken, event: `${type}.${state}`, detail: outcome });
  return true;
}

/**
 * A request carried out in the same turn it arrived (STOP, START): written closed, and its receipt
 * and outcome noted in the ledger as two consecutive entries in one write. A replay writes nothing
 * new (both are keyed by the request id).
 */
export async function recordCompletedRequest(
  ctx: Ctx,
  r: { id: string; subscriberToken: string; type: RequestType; channel: string; receivedAt?: Date },
  state: 'done' | 'cancelled',
  outcome: string,
): Promise<void> {
  const now = ctx.clock.now();
  // Received when the person asked (a message's own time: a backlog or a late redelivery counts
  // towards the time to fulfil), never later than now (a sender's clock running ahead).
  const receivedAt = r.receivedAt && r.receivedAt < now ? r.receivedAt : now;
  const { dueAt, regime } = dueDate(r.type, receivedAt);
  const request = { id: r.id, subscriberToken: r.subscriberToken, type: r.type, channel: r.channel };
  // Exists already: a replay, possibly of a step that opened it without closing it.
  if (!(await ctx.requests.open({ ...request, receivedAt, dueAt, regime }, { state, outcome, at: now })))
    await ctx.requests.close(r.id, state, outcome, now, r.type);
  await ctx.ledger.appendAll([
    { requestId: r.id, subscriberToken: r.subscriberToken, event: `${r.type}.received`, detail: r.channel },
    { requestId: r.id, subscriberToken: r.subscriberToken, event: `${r.type}.${state}`, detail: outcome },
  ]);
}

/** Why staff close a request the bot could not close itself: a fixed vocabulary, kept in the ledger. */
export const CLOSE_REASONS = ['fulfilled_elsewhere', 'withdrawn_by_person', 'duplicate', 'identity_not_verified', 'not_a_request'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/**
 * Staff close an open request with a reason: done when it was carried out elsewhere (an email
 * answered, a letter sent), cancelled otherwise. A question still waiting for it is cleared. An
 * erasure already under way is the job's to close, never staff's.
 */
export async function closeOnStaffDecision(
  ctx: Ctx & Pick<RightsContext, 'erasureJobs' | 'subscribers'>,
  id: string,
  reason: CloseReason,
): Promise<
  | { kind: 'closed'; state: 'done' | 'cancelled'; subscriberToken: string }
  | { kind: 'not_found' }
  | { kind: 'not_open'; state: string }
  | { kind: 'erasure_running' }
> {
  const q = await ctx.requests.get(id);
  if (!q) return { kind: 'not_found' };
  if (q.state !== 'open') return { kind: 'not_open', state: q.state };
  if (q.type === 'erasure' && (await ctx.erasureJobs.exists(id))) return { kind: 'erasure_running' };
  const state = reason === 'fulfilled_elsewhere' ? 'done' : 'cancelled';
  const outcome = `closed by staff: ${reason.replace(/_/g, ' ')}`;
  if (q.type === 'erasure') {
    // A "Yes" may be on its way: the request closes only if no confirmation claimed it first.
    if (q.confirmedAt) return { kind: 'erasure_running' };
    if (!(await ctx.requests.closeUnconfirmed(id, state, outcome, ctx.clock.now()))) return { kind: 'erasure_running' };
    await ctx.ledger.append({ requestId: id, subscriberToken: q.subscriberToken, event: `erasure.${state}`, detail: outcome });
  } else await closeRequest(ctx, id, q.subscriberToken, state, outcome, q.type as RequestType);
  await ctx.subscribers.clearQuestionOf(q.subscriberToken, id);
  return { kind: 'closed', state, subscriberToken: q.subscriberToken };
}
