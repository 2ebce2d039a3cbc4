/** Pauses, and polling the service's backlog until it drains. */
import type { Models } from '../../../src/store/models';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Backlog {
  inboxOpen: number;
  outboxOpen: number;
}

export async function backlog(m: Models): Promise<Backlog> {
  const [inboxOpen, outboxOpen] = await Promise.all([
    m.Inbox.countDocuments({ state: { $in: ['pending', 'processing'] } }),
    m.Outbox.countDocuments({ state: { $in: ['pending', 'sending'] } }),
  ]);
  return { inboxOpen, outboxOpen };
}

/** Waits until nothing is open in the inbox or the outbox; resolves with the time it took (ms). */
export async function waitDrained(m: Models, timeoutMs: number, onTick?: (b: Backlog) => void): Promise<{ ms: number; drained: boolean; last: Backlog }> {
  const t0 = Date.now();
  let last: Backlog = { inboxOpen: -1, outboxOpen: -1 };
  while (Date.now() - t0 < timeoutMs) {
    try {
      last = await backlog(m);
      onTick?.(last);
      if (last.inboxOpen === 0 && last.outboxOpen === 0) return { ms: Date.now() - t0, drained: true, last };
    } catch {
      /* the database may be coming back */
    }
    await sleep(500);
  }
  return { ms: Date.now() - t0, drained: false, last };
}
