import type { Types } from 'mongoose';
import type { Deps } from '../deps';
import { isDuplicateKey } from '../db/models';
import { enqueueReplies } from '../outbox/enqueue';
import { scheduleMediaDeletion } from '../outbox/media';
import { closeRequest, openRequest, appendLedger } from './ledger';
import { at } from '../privacy/pii';
import { outcome, text, type Outcome } from './outcome';
import { questionButtons, questionId } from './questions';
import { openField, recipientOf, senderOf, tokenOf, type Recipient, type Subscriber } from './subscribers';

/** A DELETE must be confirmed within this window; later answers delete nothing. */
export const ERASURE_CONFIRM_MS = 15 * 60_000;

/** DELETE: asks to confirm with buttons (valid 15 minutes); nothing is deleted yet. */
export async function requestErasure(deps: Deps, s: Subscriber, r: { requestId: string; channel: string }): Promise<Outcome> {
  const expiresAt = new Date(deps.clock.now().getTime() + ERASURE_CONFIRM_MS);
  await openRequest(deps, { id: r.requestId, subscriberToken: s.key, type: 'erasure', channel: r.channel });
  // A previous unanswered DELETE is superseded by this one.
  const previous = s.pending?.kind === 'erasure' && s.pending.requestId !== r.requestId ? s.pending.requestId : null;
  const qid = questionId(deps, r.requestId);
  await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { pending: { kind: 'erasure', requestId: r.requestId, questionId: qid, expiresAt } } });
  if (previous) await closeRequest(deps, previous, s.key, 'cancelled', 'superseded by a new DELETE');
  return outcome('erasure_asked', erasureQuestion(qid));
}

const erasureQuestion = (qid: string) => ({ kind: 'buttons' as const, key: 'erase.question', buttons: questionButtons('erasure', qid) });

/** An answer that is not one of the question's buttons: the same question again (nothing is erased). */
export async function reaskErasure(deps: Deps, s: Subscriber): Promise<Outcome> {
  const pending = s.pending?.kind === 'erasure' ? s.pending : null;
  if (!pending?.requestId || !pending.questionId) return outcome('erasure_nothing_pending', text('erase.nothingPending'));
  if (pending.expiresAt && pending.expiresAt < deps.clock.now()) return cancelErasure(deps, s);
  return outcome('erasure_reasked', erasureQuestion(pending.questionId));
}

/** The person pressed "Yes, erase": erase now (a durable job), or explain why nothing happened. */
export async function confirmErasure(deps: Deps, s: Subscriber): Promise<Outcome> {
  const pending = s.pending?.kind === 'erasure' ? s.pending : null;
  if (!pending?.requestId) return outcome('erasure_nothing_pending', text('erase.nothingPending'));
  if (pending.expiresAt && pending.expiresAt < deps.clock.now()) {
    await deps.models.Subscriber.updateOne({ _id: s._id }, { $set: { pending: null } });
    await closeRequest(deps, pending.requestId, s.key, 'expired', 'not confirmed within 15 minutes');
    return outcome('erasure_expired', text('erase.expired'));
  }
  await appendLedger(deps, { requestId: pending.requestId, subscriberToken: s.key, event: 'erasure.confirmed', detail: 'button' });
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
      toEnc: deps.pii.encrypt(JSON.stringify(recipientOf(deps, s)), at('erasureJobs', 'toEnc', requestId)),
      phoneNumberId: senderOf(deps, s),
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
 * exports, outbox items (failed ones too), the payloads of inbox items (those kept aside too),
 * staff notes about the person, and the documents we uploaded to Meta for them — keeping only the
 * suppression token (so the number is never marketed to again), the pseudonymous ledger, and for
 * the replay window the bare dedupe keys of their inbox items (keyed hashes, so a redelivery of
 * what they wrote before cannot re-create them). Each step is idempotent, so a crash anywhere is
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

async function eraseSteps(
  deps: Deps,
  job: { subscriberId: Types.ObjectId; subscriberToken: string; toEnc: string; phoneNumberId: string; locale: string },
  jobId: string,
): Promise<'done'> {
  const m = deps.models;
  const { subscriberId, subscriberToken: token } = job;
  const sub = (await m.Subscriber.findById(subscriberId).lean()) as Subscriber | null;
  const now = deps.clock.now();
  // Every token the person is known by: the number's, the username's, and numbers they had before.
  const waId = sub ? openField(deps, sub, 'waIdEnc') : null;
  const bsuid = sub ? openField(deps, sub, 'bsuidEnc') : null;
  const own = [token, sub?.key, sub?.bsuidKey, waId ? tokenOf(deps, { waId }) : null, bsuid ? tokenOf(deps, { bsuid }) : null];
  const suppressed = [...new Set(own.filter((k): k is string => Boolean(k)))];
  const keys = [...new Set([...suppressed, ...(sub?.previousKeys ?? [])])];
  for (const k of suppressed) {
    try {
      await m.Suppression.collection.insertOne({ _id: k as never, reason: 'erasure', at: now });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }
  const confirmation = `${confirmationId(jobId)}:0`;
  // Documents sent to them (MY DATA) are deleted at Meta too, before their outbox items go.
  const uploaded = await m.Outbox.find({ subscriberId, mediaId: { $ne: null } }, { mediaId: 1, phoneNumberId: 1 }).lean();
  await scheduleMediaDeletion(deps, uploaded.map((o) => ({ mediaId: o.mediaId!, phoneNumberId: o.phoneNumberId })), now);
  await m.Message.deleteMany({ subscriberId });
  await m.Consent.deleteMany({ subscriberId });
  await m.Export.deleteMany({ subscriberId });
  await m.Outbox.deleteMany({ subscriberId, _id: { $nin: [confirmation] } });
  // Inbox items keep only their keyed dedupe id until the retention sweep: nothing of the person.
  await m.Inbox.updateMany(
    { subscriberKey: { $in: keys } },
    { $set: { state: 'erased', field: 'erased', type: 'erased', leaseUntil: null }, $unset: { payloadEnc: 1, subscriberKey: 1, lastError: 1 } },
  );
  await m.StaffAudit.updateMany({ subscriberToken: { $in: keys }, noteEnc: { $ne: null } }, { $set: { noteEnc: null } });
  await m.OptOutSignal.deleteMany({ _id: { $in: keys } });
  await m.Subscriber.deleteOne({ _id: subscriberId });
  // A staff reply or an API send that raced the steps above left its line behind: gone too.
  await m.Message.deleteMany({ subscriberId });
  await m.Outbox.deleteMany({ subscriberId, _id: { $nin: [confirmation] } });
  await closeRequest(deps, jobId, token, 'done', 'erased');
  await enqueueReplies(deps, {
    keyPrefix: confirmationId(jobId),
    subscriberId,
    to: JSON.parse(deps.pii.decrypt(job.toEnc, at('erasureJobs', 'toEnc', jobId))) as Recipient,
    from: job.phoneNumberId,
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
