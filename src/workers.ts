import { loadKeywordPacks } from './chat/keywordPacks';
import type { Deps } from './deps';
import { createItemHandler } from './inbox/handleItem';
import { createInboxWorker, type WorkerOptions } from './inbox/worker';
import { createGraphClient, type GraphClient } from './outbox/graphClient';
import { createSandboxClient } from './outbox/sandboxClient';
import { runMediaDeletions } from './outbox/media';
import { createOutboxWorker, type OutboxOptions } from './outbox/worker';
import { createEventWorker, type EventWorkerOptions } from './events/worker';
import { sweepRetention } from './maintenance/sweepRetention';
import { resumeErasureJobs, expireUnconfirmedErasures } from './rights/erasure';
import type { InboxDoc } from './store/inboxStore';
import type { OutboxDoc } from './store/outboxStore';

export interface Workers {
  stop(): Promise<void>;
}

export interface WorkerSet extends Workers {
  start(): void;
  inbox: ReturnType<typeof createInboxWorker>;
  outbox: ReturnType<typeof createOutboxWorker>;
  events: ReturnType<typeof createEventWorker>;
  /** Runs every loop once until nothing is left (tests). */
  drain(): Promise<void>;
}

export function graphClientFor(deps: Deps): GraphClient {
  return deps.config.sandbox ? createSandboxClient() : createGraphClient(deps.config);
}

/** The background work of a process: inbox processing, outbox sending, unfinished erasures. */
export function createWorkers(
  deps: Deps,
  opts: { inbox?: WorkerOptions; outbox?: OutboxOptions; events?: EventWorkerOptions; graph?: GraphClient } = {},
): WorkerSet {
  const graph = opts.graph ?? graphClientFor(deps);
  const inbox = createInboxWorker(deps, createItemHandler(deps, loadKeywordPacks(undefined, deps.localeOverrides)), opts.inbox);
  const outbox = createOutboxWorker(deps, graph, opts.outbox);
  // With no receiver configured, only events queued for receivers since removed are left to close: a slow poll.
  const events = createEventWorker(deps, { idleMs: deps.config.events.receivers.length ? undefined : 60_000, ...opts.events });
  const onEvents = () => events.kick();
  // A notice may carry what was just written: claimed then without being read again.
  const onInbox = (docs?: InboxDoc[]) => (docs?.length ? inbox.offer(docs) : inbox.kick());
  const onOutbox = (docs?: OutboxDoc[]) => (docs?.length ? outbox.offer(docs) : outbox.kick());
  let handedOver: (() => void)[] = [];
  let erasureTimer: NodeJS.Timeout | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  return {
    inbox,
    outbox,
    events,
    async drain() {
      for (let i = 0; i < 100; i++) {
        await resumeErasureJobs(deps.rights);
        const n = (await inbox.runOnce()) + (await outbox.runOnce()) + (await events.runOnce()) + (await runMediaDeletions(deps, graph));
        if (n === 0) return;
      }
    },
    async stop() {
      for (const undo of handedOver) undo();
      handedOver = [];
      deps.bus.off('inbox', onInbox);
      deps.bus.off('outbox', onOutbox);
      deps.bus.off('events', onEvents);
      if (erasureTimer) clearInterval(erasureTimer);
      if (sweepTimer) clearInterval(sweepTimer);
      await Promise.all([inbox.stop(), outbox.stop(), events.stop()]);
    },
    start() {
      deps.bus.on('inbox', onInbox);
      deps.bus.on('outbox', onOutbox);
      deps.bus.on('events', onEvents);
      inbox.start();
      outbox.start();
      events.start();
      // What this process writes goes straight into its workers' hands while they keep up.
      handedOver = [deps.handOver.register('inbox', inbox), deps.handOver.register('outbox', outbox)];
      const log = deps.log.child({ module: 'erasure' });
      let ticks = 0;
      const tick = () => {
        void resumeErasureJobs(deps.rights).catch((err) => log.warn({ err }, 'resuming erasures failed'));
        void runMediaDeletions(deps, graph).catch((err) => log.warn({ err }, 'media deletions failed'));
        // Every minute: DELETEs never confirmed close as expired (not open, not overdue).
        if (ticks++ % 6 === 0)
          void expireUnconfirmedErasures(deps.rights)
            .then((n) => n && log.info({ expired: n }, 'unconfirmed erasure requests expired'))
            .catch((err) => log.warn({ err }, 'expiring unconfirmed erasures failed'));
      };
      tick();
      erasureTimer = setInterval(tick, 10_000);
      erasureTimer.unref();
      // Retention: every replica may sweep; the deletes are idempotent.
      const sweep = () => void sweepRetention(deps).catch((err) => log.warn({ err }, 'retention sweep failed'));
      sweepTimer = setInterval(sweep, 3600_000);
      sweepTimer.unref();
      setTimeout(sweep, 30_000).unref();
    },
  };
}

export function startWorkers(deps: Deps): Workers {
  const w = createWorkers(deps);
  w.start();
  return w;
}
