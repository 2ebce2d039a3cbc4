import type { Deps } from '../deps';
import { isDuplicateKey } from '../db/models';
import { errorLabel } from '../lib/errors';
import type { GraphClient } from './graphClient';

/** Without a delivered or failed status, an uploaded document is deleted at Meta after this long. */
export const MEDIA_FALLBACK_MS = 24 * 3600_000;
const MAX_ATTEMPTS = 20;

/**
 * Documents we upload (MY DATA exports) stay on Meta's servers for 30 days unless deleted
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#delete-media). They
 * hold a person's data, so each is deleted as soon as it is delivered or has failed, at the
 * latest a day after sending, and at once when the person is erased. Scheduling is an upsert by
 * media id; an earlier due date wins.
 */
export async function scheduleMediaDeletion(deps: Deps, items: { mediaId: string; phoneNumberId: string }[], dueAt: Date): Promise<void> {
  for (const it of items) {
    await deps.models.MediaDeletion.updateOne({ _id: it.mediaId }, { $min: { dueAt }, $setOnInsert: { phoneNumberId: it.phoneNumberId, attempts: 0 } }, { upsert: true }).catch((err) => {
      if (!isDuplicateKey(err)) throw err;
    });
  }
}

/** Deletes what is due (several replicas may run this: each claims a deletion with a lease). */
export async function runMediaDeletions(deps: Deps, graph: GraphClient, limit = 50): Promise<number> {
  const m = deps.models.MediaDeletion;
  const log = deps.log.child({ module: 'media' });
  const now = deps.clock.now();
  const due = await m.find({ dueAt: { $lte: now } }, { _id: 1 }).sort({ dueAt: 1 }).limit(limit).lean();
  let done = 0;
  for (const d of due) {
    const claimed = await m
      .findOneAndUpdate(
        { _id: d._id, dueAt: { $lte: now }, $or: [{ leaseUntil: null }, { leaseUntil: { $lt: now } }] },
        { $set: { leaseUntil: new Date(now.getTime() + 60_000) }, $inc: { attempts: 1 } },
        { returnDocument: 'after' },
      )
      .lean();
    if (!claimed) continue;
    const r = await graph.deleteMedia(claimed._id, claimed.phoneNumberId).catch((err) => ({ kind: 'retry' as const, code: 0, title: errorLabel(err) }));
    if (r.kind === 'deleted' || claimed.attempts >= MAX_ATTEMPTS) {
      await m.deleteOne({ _id: claimed._id });
      done += 1;
      if (r.kind !== 'deleted') log.error({ code: r.code, attempts: claimed.attempts }, 'media deletion kept failing; given up (Meta deletes media after 30 days)');
    } else {
      const wait = Math.min(3600_000, 30_000 * 2 ** Math.min(claimed.attempts, 7));
      await m.updateOne({ _id: claimed._id }, { $set: { leaseUntil: null, dueAt: new Date(now.getTime() + wait) } });
      log.warn({ code: r.code, attempts: claimed.attempts }, 'media deletion will be retried');
    }
  }
  return done;
}
