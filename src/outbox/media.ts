import type { Deps } from '../deps';
import { errorLabel } from '../lib/errors';
import type { GraphClient } from './graphClient';

/** Without a delivered or failed status, an uploaded document is deleted at Meta after this long. */
export const MEDIA_FALLBACK_MS = 24 * 3600_000;
const MAX_ATTEMPTS = 20;

/**
 * Documents we upload (MY DATA exports) stay on Meta's servers for 30 days unless deleted
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#delete-media). They
 * hold a person's data, so each is deleted as soon as it is delivered or has failed, at the
 * latest a day after sending, and at once when the person is erased (store/mediaDeletionStore.ts
 * schedules them).
 */
/** Deletes what is due (several replicas may run this: each claims a deletion with a lease). */
export async function runMediaDeletions(deps: Deps, graph: GraphClient, limit = 50): Promise<number> {
  const m = deps.stores.mediaDeletions;
  const log = deps.log.child({ module: 'media' });
  const now = deps.clock.now();
  let done = 0;
  for (const id of await m.dueIds(now, limit)) {
    const claimed = await m.claim(id, now, 60_000);
    if (!claimed) continue;
    const r = await graph.deleteMedia(claimed._id, claimed.phoneNumberId).catch((err) => ({ kind: 'retry' as const, code: 0, title: errorLabel(err) }));
    if (r.kind === 'deleted' || claimed.attempts >= MAX_ATTEMPTS) {
      await m.done(claimed._id);
      done += 1;
      if (r.kind !== 'deleted')
        log.error({ code: r.code, attempts: claimed.attempts }, 'media deletion kept failing; given up (Meta deletes media after 30 days)');
    } else {
      const wait = Math.min(3600_000, 30_000 * 2 ** Math.min(claimed.attempts, 7));
      await m.later(claimed._id, new Date(now.getTime() + wait));
      log.warn({ code: r.code, attempts: claimed.attempts }, 'media deletion will be retried');
    }
  }
  return done;
}
