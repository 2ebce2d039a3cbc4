import type { ErasureJob } from '../store/erasureJobStore';
import type { Subscriber } from '../store/subscriberStore';
import type { SubjectIdentity, RightsContext } from './context';
import { closeRequest, closeUnconfirmedRequest, openRequest } from './ledger';
import { outcome, text, type Outcome } from './outcome';
import { questionButtons, questionId } from './questions';
import { identityOfRecipient, senderOf } from './subscribers';

/** A DELETE must be confirmed within this window; later answers delete nothing. */
export const ERASURE_CONFIRM_MS = 15 * 60_000;

type AskCtx = Pick<RightsContext, 'subscribers' | 'requests' | 'ledger' | 'clock' | 'keys' | 'erasureJobs'>;
export type EraseCtx = Pick<
  RightsContext,
  | 'subscribers'
  | 'suppressions'
  | 'requests'
  | 'ledger'
  | 'clock'
  | 'erasureJobs'
  | 'outbox'
  | 'mediaDeletions'
  | 'conversation'
  | 'consents'
  | 'exports'
  | 'inbox'
  | 'audit'
  | 'policy'
  | 'queueReplies'
  | 'announce'
>;

/** The reference an erasure confirmation gives the person: the end of its request's id (in the ledger, which stays). */
export const erasureReference = (requestId: string) => requestId.slice(-10);

/** DELETE: asks to confirm with buttons (valid 15 minutes); nothing is deleted yet. */
export async function requestErasure(ctx: AskCtx, s: Subscriber, r: { requestId: string; channel: string }): Promise<Outcome> {
  const expiresAt = new Date(ctx.clock.now().getTime() + ERASURE_CONFIRM_MS);
  await openRequest(ctx, { id: r.requestId, subscriberToken: s.key, type: 'erasure', channel: r.channel });
  // A previous unanswered DELETE is superseded by this one.
  const previous = s.pending?.kind === 'erasure' && s.pending.requestId !== r.requestId ? s.pending.requestId : null;
  const qid = questionId(ctx.keys, r.requestId);
  await ctx.subscribers.ask(s._id, { kind: 'erasure', requestId: r.requestId, questionId: qid, expiresAt });
  // Unless its erasure started (a job an older version began without claiming the request): that one finishes.
  if (previous && !(await ctx.erasureJobs.exists(previous)))
    await closeUnconfirmedRequest(ctx, previous, s.key, 'cancelled', 'superseded by a new DELETE', 'erasure');
  return outcome('erasure_asked', erasureQuestion(qid));
}

const erasureQuestion = (qid: string) => ({ kind: 'buttons' as const, key: 'erase.question', buttons: questionButtons('erasure', qid) });
const pendingErasure = (s: Subscriber) => (s.pending?.kind === 'erasure' ? s.pending : null);

/** An answer that is not one of the question's buttons: the same question again (nothing is erased). */
export async function reaskErasure(ctx: EraseCtx, s: Subscriber): Promise<Outcome> {
  const pending = pendingErasure(s);
  if (!pending?.requestId || !pending.questionId) return outcome('erasure_nothing_pending', text('erase.nothingPending'));
  if (pending.expiresAt && pending.expiresAt < ctx.clock.now()) return cancelErasure(ctx, s);
  return outcome('erasure_reasked', erasureQuestion(pending.questionId));
}

/** The person pressed "Yes, erase": erase now (a durable job), or explain why nothing happened. */
export async function confirmErasure(ctx: EraseCtx, s: Subscriber): Promise<Outcome> {
  const pending = pendingErasure(s);
  if (!pending?.requestId) return outcome('erasure_nothing_pending', text('erase.nothingPending'));
  if (pending.expiresAt && pending.expiresAt < ctx.clock.now()) {
    await ctx.subscribers.clearQuestion(s._id);
    // A "Yes" that claimed it in time but did not get to start (a crash) is finished now.
    if ((await settleUnconfirmed(ctx, s, pending.requestId, 'expired', 'not confirmed within 15 minutes')) === 'erasing') return outcome('erased');
    return outcome('erasure_expired', text('erase.expired'));
  }
  // Closed meanwhile (the expiry sweep, staff): nothing is erased.
  if (!(await startErasure(ctx, s, pending.requestId, 'button'))) {
    await ctx.subscribers.clearQuestion(s._id);
    return outcome('erasure_expired', text('erase.expired'));
  }
  // The confirmation is queued by the job itself, after the data is gone.
  return outcome('erased');
}

/**
 * The erasure itself, once confirmed: the request is claimed (false: it closed unconfirmed first, and
 * nothing is erased), noted in the ledger, then a durable job runs now (resumed if this process dies).
 */
async function startErasure(ctx: EraseCtx, s: Subscriber, requestId: string, confirmedBy: string): Promise<boolean> {
  if (!(await ctx.requests.claimConfirmation(requestId, ctx.clock.now()))) return false;
  await ctx.ledger.append({ requestId, subscriberToken: s.key, event: 'erasure.confirmed', detail: confirmedBy });
  await ctx.erasureJobs.start({
    id: requestId,
    subscriberId: s._id,
    subscriberToken: s.key,
    to: ctx.subscribers.recipientOf(s),
    phoneNumberId: senderOf(ctx, s),
    locale: s.locale ?? ctx.policy.defaultLocale,
    now: ctx.clock.now(),
  }); // already started: the run below resumes it
  await runErasureJob(ctx, requestId);
  return true;
}

/**
 * An erasure the person asked for outside the chat (an email, a letter, a call), carried out by
 * staff on that documented request (GDPR Art. 17; Art. 12(2): the controller facilitates a right
 * however it is asked). The request is recorded as received through staff, and the erasure is the
 * chat's own; the person is told in WhatsApp when it is done. Who may do it is the role table's
 * (staff/roles.ts); the caller audits it with the reason.
 */
export async function eraseOnRequest(ctx: EraseCtx, s: Subscriber): Promise<Outcome & { requestId?: string }> {
  // One erasure per person: its id is the person's, so a second click or a retry resumes the same one.
  const requestId = `staff-erase:${String(s._id)}`;
  const running = await ctx.erasureJobs.runningFor(s._id);
  if (running && running !== requestId) return outcome('erasure_running');
  // A question the person left waiting is settled first: cancelled, unless their own "Yes" claimed
  // it, and then their erasure is the one (a second would tell them twice, with two references).
  const waiting = pendingErasure(s)?.requestId;
  if (waiting && waiting !== requestId) {
    const settled = await settleUnconfirmed(ctx, s, waiting, 'cancelled', 'superseded by an erasure on a documented request', false);
    if (settled !== 'closed') return outcome('erasure_running');
    await ctx.subscribers.clearQuestion(s._id, 'erasure');
  }
  await openRequest(ctx, { id: requestId, subscriberToken: s.key, type: 'erasure', channel: 'staff' });
  await startErasure(ctx, s, requestId, 'staff: documented request');
  return { ...outcome('erased'), requestId };
}

/**
 * A DELETE the person never confirmed: once its question has lapsed, the request closes as
 * "expired — not confirmed" (the ledger keeps it), so it is neither open nor overdue, and the
 * question is cleared. Run by the workers every minute; a request whose erasure was started (the
 * person confirmed in time) is the job's to close. The minute of slack covers a "Yes" pressed at
 * the last moment and still being handled.
 */
export async function expireUnconfirmedErasures(ctx: EraseCtx, limit = 200): Promise<number> {
  const before = new Date(ctx.clock.now().getTime() - ERASURE_CONFIRM_MS - 60_000);
  let expired = 0;
  for (const q of await ctx.requests.unconfirmedErasures(before, limit)) {
    // Started before claims existed: the job's.
    if (await ctx.erasureJobs.exists(q._id)) continue;
    if (!(await closeUnconfirmedRequest(ctx, q._id, q.subscriberToken, 'expired', 'not confirmed within 15 minutes', 'erasure'))) continue;
    await ctx.subscribers.clearQuestionOf(q.subscriberToken, q._id);
    expired += 1;
  }
  // Confirmed (claimed) a minute ago or more and never started: the turn died between the two. The
  // person said yes in time: their erasure is carried out now.
  for (const q of await ctx.requests.claimedErasures(new Date(ctx.clock.now().getTime() - 60_000), limit)) {
    if (await ctx.erasureJobs.exists(q._id)) continue;
    const s = await ctx.subscribers.byToken(q.subscriberToken);
    if (s) await startErasure(ctx, s, q._id, 'button (resumed)');
    else await closeRequest(ctx, q._id, q.subscriberToken, 'done', 'erased', 'erasure'); // nothing of them is left
  }
  return expired;
}

/**
 * Closes an erasure request nobody confirmed ('closed'), or, when a "Yes" claimed it first and its
 * erasure never started (a crash between the two), carries that erasure out ('erasing', unless
 * `resume` is false: the caller then leaves it to the sweep). A request whose job exists is the job's.
 */
async function settleUnconfirmed(
  ctx: EraseCtx,
  s: Subscriber,
  id: string,
  state: 'cancelled' | 'expired',
  why: string,
  resume = true,
): Promise<'closed' | 'erasing'> {
  if (!(await ctx.erasureJobs.exists(id)) && (await closeUnconfirmedRequest(ctx, id, s.key, state, why, 'erasure'))) return 'closed';
  const q = await ctx.requests.get(id);
  if (!q || q.state !== 'open') return 'closed';
  if (resume) await startErasure(ctx, s, id, 'button (resumed)');
  return 'erasing';
}

export async function cancelErasure(ctx: EraseCtx, s: Subscriber): Promise<Outcome> {
  const pending = pendingErasure(s);
  if (!pending?.requestId) return outcome('erasure_nothing_pending', text('erase.nothingPending'));
  await ctx.subscribers.clearQuestion(s._id);
  const expired = pending.expiresAt && pending.expiresAt < ctx.clock.now();
  const settled = await settleUnconfirmed(
    ctx,
    s,
    pending.requestId,
    expired ? 'expired' : 'cancelled',
    expired ? 'not confirmed within 15 minutes' : 'cancelled by the person',
  );
  // Their earlier "Yes" had claimed it: it is carried out (and confirmed by the job), not cancelled.
  if (settled === 'erasing') return outcome('erased');
  return outcome(expired ? 'erasure_expired' : 'erasure_cancelled', text(expired ? 'erase.expired' : 'erase.cancelled'));
}

/**
 * GDPR Art. 17: a hard delete of every personal record — profile, messages, consent history,
 * exports, outbox items (failed ones too), the payloads of inbox items (those kept aside too),
 * staff notes about the person, and the documents we uploaded to Meta for them — keeping only the
 * suppression token (so the number is never marketed to again), the pseudonymous ledger, and for
 * the replay window the bare dedupe keys of their inbox items (keyed hashes, so a redelivery of
 * what they wrote before cannot re-create them). Each step is idempotent, so a crash anywhere is
 * finished by the next run (workers resume jobs whose lease ran out).
 */
export async function runErasureJob(ctx: EraseCtx, jobId: string): Promise<'done' | 'missing'> {
  const job = await ctx.erasureJobs.running(jobId);
  if (!job) return 'missing';
  // Keep the lease while working: on a large history the deletes can outlast one lease, and a
  // second runner must not start on a job that is alive.
  const heartbeat = setInterval(() => void ctx.erasureJobs.heartbeat(jobId, ctx.clock.now()).catch(() => undefined), 20_000);
  heartbeat.unref();
  try {
    await eraseSteps(ctx, job);
    return 'done';
  } finally {
    clearInterval(heartbeat);
  }
}

async function eraseSteps(ctx: EraseCtx, job: ErasureJob): Promise<void> {
  const { subscriberId, subscriberToken: token, _id: jobId } = job;
  const sub = await ctx.subscribers.byId(subscriberId);
  const now = ctx.clock.now();
  // Every token the person is known by: the number's, the username's, and numbers they had before.
  const waId = sub ? ctx.subscribers.open(sub, 'waIdEnc') : null;
  const bsuid = sub ? ctx.subscribers.open(sub, 'bsuidEnc') : null;
  const own = [token, sub?.key, sub?.bsuidKey, waId ? ctx.subscribers.tokenOf({ waId }) : null, bsuid ? ctx.subscribers.tokenOf({ bsuid }) : null];
  const suppressed = [...new Set(own.filter((k): k is string => Boolean(k)))];
  const keys = [...new Set([...suppressed, ...(sub?.previousKeys ?? [])])];
  // Every recipient of the data is told (Art. 19), by pseudonym (and number, where trusted with it),
  // from the job itself, so a run resumed after a crash tells them too: the erasure, the number that
  // is never to be marketed to again, and that it is done here (to be done there too).
  const who = { subjectToken: token, identity: () => (waId || bsuid ? { waId, bsuid } : jobIdentity(ctx, job)) };
  await ctx.announce({ ...who, at: job.startedAt, id: `${jobId}:erasure.requested`, type: 'erasure.requested', data: { requestId: jobId } });
  await ctx.suppressions.suppress(suppressed, 'erasure', now);
  await ctx.announce({ ...who, at: now, id: `${jobId}:suppression.added`, type: 'suppression.added', data: { reason: 'erasure', requestId: jobId } });
  const confirmation = confirmationId(jobId);
  // Documents sent to them (MY DATA) are deleted at Meta too, before their outbox items go.
  await ctx.mediaDeletions.schedule(await ctx.outbox.uploadsOf(subscriberId), now);
  const wipe = async () => {
    await ctx.conversation.removeAllOf(subscriberId);
    await ctx.outbox.removeAllOf(subscriberId, [`${confirmation}:0`]);
  };
  await wipe();
  await ctx.consents.removeAllOf(subscriberId);
  await ctx.exports.removeAllOf(subscriberId);
  await ctx.inbox.eraseOf(keys);
  await ctx.audit.dropNotesOf(keys);
  await ctx.suppressions.dropSignals(keys);
  await ctx.subscribers.remove(subscriberId);
  // A staff reply or an API send that raced the steps above left its line behind: gone too.
  await wipe();
  await closeRequest(ctx, jobId, token, 'done', 'erased');
  await ctx.announce({ ...who, at: ctx.clock.now(), id: `${jobId}:erasure.completed`, type: 'erasure.completed', data: { requestId: jobId } });
  await ctx.queueReplies({
    keyPrefix: confirmation,
    subscriberId,
    to: ctx.erasureJobs.recipientOf(job),
    from: job.phoneNumberId,
    locale: job.locale,
    record: false, // the conversation is gone; the confirmation is not stored again
    purgeAfterSend: true,
    replies: [text('erase.done', { ref: erasureReference(jobId) })],
  });
  await ctx.erasureJobs.finish(jobId);
}

const confirmationId = (jobId: string) => `erasure:${jobId}:done`;

/**
 * Who a resumed job (the profile already gone) is about, from the address it keeps for the
 * confirmation; nobody when that cannot be opened (the erasure goes on, and no event can name them).
 */
function jobIdentity(ctx: Pick<EraseCtx, 'erasureJobs'>, job: ErasureJob): SubjectIdentity {
  try {
    return identityOfRecipient(ctx.erasureJobs.recipientOf(job));
  } catch {
    return {};
  }
}

/**
 * Finishes erasures interrupted by a crash: a running job whose lease ran out is claimed and run
 * again from the start (every step is idempotent). Never half-done.
 */
export async function resumeErasureJobs(ctx: EraseCtx): Promise<number> {
  let n = 0;
  for (let id = await ctx.erasureJobs.claimAbandoned(ctx.clock.now()); id; id = await ctx.erasureJobs.claimAbandoned(ctx.clock.now())) {
    await runErasureJob(ctx, id);
    n += 1;
  }
  return n;
}
