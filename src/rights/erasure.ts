import type { Types } from 'mongoose';
import type { Deps } from '../deps';
import { isDuplicateKey } from '../db/models';
import { enqueueReplies } from '../outbox/enqueue';
import { closeRequest, openRequest, appendLedger } from './ledger';
import { outcome, text, type Outcome } from './outcome';
import { recipientOf, type Subscriber } from './subscribers';

/** A DELETE must be confirmed within this window; later answers delete nothing. */
export const ERASURE_CONFIRM_MS = 15 * 60_000;

/** DELETE: asks to confirm with buttons (valid 15 minutes); nothing is deleted yet. */
export async function requestErasure(deps: Deps, s: Subscriber, r: { requestId: string; channel: string }): Promise<Outcome> {
  const expiresAt = new Date(deps.clock.now().getTime() + ERASURE_CONFIRM_MS);
  await openRequest(deps, { id: r.requestId, subscriberToken: s.key, type: 'erasure', channel: r.channel });
  // A previous unanswered DELETE is superseded by this one.
  const previous = s.pending?.kind === 'erasure' && s.pending.requestId !== r.requestId ? s.pending.requestId : null;
  await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { pending: { kind: 'erasure', requestId: r.requestId, expiresAt } } });
  if (previous) await closeRequest(deps, previous, s.key, 'cancelled', 'superseded by a new DELETE');
  return outcome('erasure_asked', {
    kind: 'buttons',
    key: 'erase.question',
    buttons: [
      { id: 'erase.yes', titleKey: 'erase.yes' },
      { id: 'erase.no', titleKey: 'erase.no' },
    ],
  });
}

/** The person said yes: erase now (a durable job), or explain why nothing happened. */
export async function confirmErasure(deps: Deps, s: Subscriber, r: { answerId: string }): Promise<Outcome> {
  const pending = s.pending?.kind === 'erasure' ? s.pending : null;
  if (!pending?.requestId) return outcome('erasure_nothing_pending', text('erase.nothingPending'));
  if (pending.expiresAt && pending.expiresAt < deps.clock.now()) {
    await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { pending: null } });
    await closeRequest(deps, pending.requestId, s.key, 'expired', 'not confirmed within 15 minutes');
    return outcome('erasure_expired', text('erase.expired'));
  }
  await appendLedger(deps, { requestId: pending.requestId, subscriberToken: s.key, event: 'erasure.confirmed', detail: r.answerId });
  await startErasureJob(deps, s, pending.requestId);
  await runErasureJob(deps, pending.requestId);
  // The confirmation is queued by the job itself, after the data is gone.
  return outcome('erased');
}

export async function cancelErasure(deps: Deps, s: Subscriber): Promise<Outcome> {
  const pending = s.pending?.kind === 'erasure' ? s.pending : null;
  if (!pending?.requestId) return outcome('erasure_nothing_pending', text('erase.nothingPending'));
  await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { pending: null } });
  const expired = pending.expiresAt && pending.expiresAt < deps.clock.now();
  await closeRequest(deps, pending.requestId, s.key, expired ? 'expired' : 'cancelled', expired ? 'not confirmed within 15 minutes' : 'cancelled by the person');
  return outcome(expired ? 'erasure_expired' : 'erasure_cancelled', text(expired ? 'erase.expired' : 'erase.cancelled'));
}

async function startErasureJob(deps: Deps, s: Subscriber, requestId: string): Promise<void> {
  try {
    await deps.models.ErasureJob.collection.insertOne({
      _id: requestId as never,
      subscriberId: s._id,
      subscriberToken: s.key,
      toEnc: recipientOf(deps, s),
      locale: s.locale ?? deps.config.defaultLocale,
      state: 'running',
      leaseUntil: new Date(deps.clock.now().getTime() + 60_000),
      startedAt: deps.clock.now(),
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err; // already started: the run below resumes it
  }
}

/**
 * GDPR Art. 17: a hard delete of every personal record — profile, messages, consent history,
 * exports, inbox and outbox items — keeping only the suppression token (so the number is never
 * marketed to again) and the pseudonymous ledger. Each step is idempotent, so a crash anywhere is
 * finished by the next run (workers resume jobs whose lease ran out).
 */
export async function runErasureJob(deps: Deps, jobId: string): Promise<'done' | 'missing'> {
  const m = deps.models;
  const job = await m.ErasureJob.findById(jobId).lean();
  if (!job || job.state === 'done') return 'missing';
  // Keep the lease while working: on a large history the deletes can outlast one lease, and a
  // second runner must not start on a job that is alive.
  const heartbeat = setInterval(() => {
    void m.ErasureJob.updateOne({ _id: jobId }, { $set: { leaseUntil: new Date(deps.clock.now().getTime() + 60_000) } }).catch(() => undefined);
  }, 20_000);
  heartbeat.unref();
  try {
    return await eraseSteps(deps, job, jobId);
  } finally {
    clearInterval(heartbeat);
  }
}

async function eraseSteps(deps: Deps, job: { subscriberId: Types.ObjectId; subscriberToken: string; toEnc: string; locale: string }, jobId: string): Promise<'done'> {
  const m = deps.models;
  const { subscriberId, subscriberToken: token } = job;
  const sub = await m.Subscriber.findById(subscriberId, { bsuidKey: 1 }).lean();
  const now = deps.clock.now();
  try {
    await m.Suppression.collection.insertOne({ _id: token as never, reason: 'erasure', at: now });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const keys = [token, sub?.bsuidKey].filter((k): k is string => Boolean(k));
  await m.Message.deleteMany({ subscriberId });
  await m.Consent.deleteMany({ subscriberId });
  await m.Export.deleteMany({ subscriberId });
  await m.Outbox.deleteMany({ subscriberId, _id: { $nin: [`${confirmationId(jobId)}:0`] } });
  await m.Inbox.deleteMany({ subscriberKey: { $in: keys } });
  await m.Subscriber.deleteOne({ _id: subscriberId });
  await closeRequest(deps, jobId, token, 'done', 'erased');
  await enqueueReplies(deps, {
    keyPrefix: confirmationId(jobId),
    subscriberId,
    toEnc: job.toEnc,
    locale: job.locale,
    category: 'rights',
    record: false, // the conversation is gone; the confirmation is not stored again
    purgeAfterSend: true,
    replies: [text('erase.done', { ref: jobId.slice(-10) })],
  });
  await m.ErasureJob.updateOne({ _id: jobId }, { $set: { state: 'done', leaseUntil: null }, $unset: { toEnc: 1 } });
  return 'done';
}

const confirmationId = (jobId: string) => `erasure:${jobId}:done`;
