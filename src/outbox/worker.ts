import type { Types } from 'mongoose';
import type { Deps } from '../deps';
import { claimAndWork, headsOf } from '../lib/heads';
import { workerLoop } from '../lib/pollingLoop';
import type { OutboxDoc } from '../db/models';
import { graphKey } from '../privacy/ids';
import { at } from '../privacy/pii';
import { openExportContent } from '../rights/exportFiles';
import { optOut } from '../rights/optOut';
import type { Subscriber } from '../rights/subscribers';
import { consentGate } from './gate';
import { failureTitle, type GraphClient, type SendResult } from './graphClient';
import { MEDIA_FALLBACK_MS, scheduleMediaDeletion } from './media';
import { createRateLimiter, type RateLimiter } from './rateLimiter';

export interface OutboxWorker {
  runOnce(): Promise<number>;
  start(): void;
  kick(): void;
  stop(): Promise<void>;
}

export interface OutboxOptions {
  leaseMs?: number;
  concurrency?: number;
  idleMs?: number;
  /** Give up on a message still failing after this long (it is marked failed, visible to staff). */
  maxAgeMs?: number;
}

type Item = OutboxDoc & { subscriberId: Types.ObjectId };
interface DocumentBody {
  type: 'document';
  exportId: string;
  document: { filename: string; caption: string };
}

const OPEN = ['pending', 'sending'];

/** Exponential backoff with full jitter, capped (and never shorter than Meta's Retry-After). */
export function backoffMs(attempt: number, retryAfterMs?: number): number {
  const cap = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
  const jittered = cap / 2 + Math.random() * (cap / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * Sends the outbox: claims due items with a lease (replicas share the work; a crashed sender's
 * items are sent after the lease expires), keeps order per recipient (only the oldest open item
 * of a recipient is sent), paces per business number, retries what is temporary and records
 * what is permanent. The consent gate runs again right before each send.
 */
export function createOutboxWorker(deps: Deps, graph: GraphClient, opts: OutboxOptions = {}): OutboxWorker {
  const { Outbox, Message, Subscriber, Export } = deps.models;
  const log = deps.log.child({ module: 'outbox' });
  const leaseMs = opts.leaseMs ?? Math.max(30_000, deps.config.graph.timeoutMs * 3);
  const concurrency = opts.concurrency ?? 16;
  const idleMs = opts.idleMs ?? 500;
  const maxAgeMs = opts.maxAgeMs ?? 24 * 3600_000;
  // Meta's throughput limit is per business number: one bucket each.
  const limiters = new Map<string, RateLimiter>();
  const limiterFor = (from: string) => {
    let l = limiters.get(from);
    if (!l) limiters.set(from, (l = createRateLimiter(deps.config.graph.ratePerSecond)));
    return l;
  };
  const inHand = new Set<Promise<void>>();

  const due = (now: Date) => ({ $or: [{ state: 'pending', nextAttemptAt: { $lte: now } }, { state: 'sending', leaseUntil: { $lt: now } }] });

  async function finish(id: string, set: Record<string, unknown>, messageStatus: string, purge: boolean) {
    // A purged item (the erasure confirmation) goes whatever happened: nothing of the person stays.
    if (purge) await Outbox.deleteOne({ _id: id });
    else await Outbox.updateOne({ _id: id }, { $set: { ...set, leaseUntil: null } });
    const m = await Message.findOneAndUpdate({ _id: id }, { $set: { status: messageStatus } }, { returnDocument: 'after' }).lean();
    if (m) deps.bus.emit('conversation', String(m.subscriberId));
  }

  async function sendOne(doc: Item): Promise<void> {
    const now = deps.clock.now();
    const sub = (await Subscriber.findById(doc.subscriberId).lean()) as Subscriber | null;
    if (sub) {
      const gate = await consentGate(deps, { token: sub.key, category: doc.category as 'rights' | 'service' | 'marketing' });
      if (!gate.allowed) {
        deps.metrics.gateRefusals.inc({ reason: gate.reason });
        await finish(doc._id, { state: 'failed', error: { code: 0, title: `refused by the consent gate: ${gate.reason}` } }, 'failed', doc.purgeAfterSend);
        return;
      }
    } else if (!doc.purgeAfterSend) {
      // The person was erased while this waited: nothing of theirs is sent or kept.
      await Outbox.deleteOne({ _id: doc._id });
      return;
    }
    let body = JSON.parse(deps.pii.decrypt(doc.bodyEnc, at('outbox', 'bodyEnc', doc._id))) as Record<string, unknown>;
    // Meta refuses free-form messages outside the 24 h customer-service window (131047).
    if (sub && doc.kind !== 'template' && (!sub.windowUntil || sub.windowUntil < now)) {
      const template = deps.config.graph.utilityTemplate;
      if (!template) {
        log.warn({ item: doc._id, code: 131047 }, 'not sent: outside the 24-hour window and no template configured');
        await finish(doc._id, { state: 'failed', error: { code: 131047, title: 'outside the 24-hour window and no utility template configured' } }, 'failed', doc.purgeAfterSend);
        return;
      }
      body = { type: 'template', template: { name: template, language: { code: sub.locale ?? deps.config.defaultLocale } } };
    }
    const to = JSON.parse(deps.pii.decrypt(doc.toEnc, at('outbox', 'toEnc', doc._id))) as { phone?: string; bsuid?: string };
    const from = doc.phoneNumberId;
    const limiter = limiterFor(from);
    const started = process.hrtime.bigint();
    let result: SendResult;
    let mediaId: string | null = doc.mediaId ?? null;
    if (body.type === 'document' && 'exportId' in body) {
      const sent = await sendDocument(doc, to, body as unknown as DocumentBody, limiter);
      result = sent.result;
      mediaId = sent.mediaId;
    } else {
      await limiter.take();
      result = await graph.sendMessage(from, to, body, doc._id);
    }
    deps.metrics.sendSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    deps.metrics.sends.inc({ outcome: result.kind, code: result.kind === 'sent' ? '' : String(result.code) });

    // An uploaded document is deleted at Meta once delivered or failed (handleStatus), or after a day.
    if (result.kind === 'sent') {
      await finish(doc._id, { state: 'sent', graphKey: graphKey(deps.pii, result.graphId), sentAt: deps.clock.now(), error: null }, 'sent', doc.purgeAfterSend);
      if (mediaId) await scheduleMediaDeletion(deps, [{ mediaId, phoneNumberId: from }], new Date(deps.clock.now().getTime() + MEDIA_FALLBACK_MS));
      return;
    }
    if (result.kind === 'retry' && now.getTime() - new Date(doc.createdAt).getTime() < maxAgeMs) {
      deps.metrics.sendRetries.inc();
      const wait = backoffMs(doc.attempts, result.retryAfterMs);
      await Outbox.updateOne(
        { _id: doc._id },
        { $set: { state: 'pending', leaseUntil: null, nextAttemptAt: new Date(deps.clock.now().getTime() + wait), error: { code: result.code, title: result.title } } },
      );
      log.warn({ item: doc._id, code: result.code, attempt: doc.attempts, waitMs: Math.round(wait) }, 'send will be retried');
      return;
    }
    await finish(doc._id, { state: 'failed', error: { code: result.code, title: failureTitle(result.code) } }, 'failed', doc.purgeAfterSend);
    if (mediaId) await scheduleMediaDeletion(deps, [{ mediaId, phoneNumberId: from }], deps.clock.now());
    log.warn({ item: doc._id, code: result.code }, 'send failed permanently');
    // 131050: the person stopped marketing in WhatsApp itself; record it as their opt-out.
    if (result.code === 131050 && sub) {
      await optOut(deps, sub as Subscriber, { requestId: `meta131050:${doc._id}`, source: 'meta_131050', channel: 'meta', at: deps.clock.now(), silent: true });
    }
  }

  async function sendDocument(doc: Item, to: { phone?: string; bsuid?: string }, body: DocumentBody, limiter: RateLimiter): Promise<{ result: SendResult; mediaId: string | null }> {
    let mediaId: string | undefined = doc.mediaId ?? undefined;
    if (!mediaId) {
      const exp = await Export.findById(body.exportId).lean();
      if (!exp) return { result: { kind: 'failed', code: 0, title: 'export no longer available' }, mediaId: null };
      // The stored file says what it is (a PDF, or the JSON sent as text/plain): both on Meta's list.
      const file = openExportContent(deps.pii.decrypt(exp.contentEnc, at('exports', 'contentEnc', exp._id)));
      await limiter.take();
      const up = await graph.uploadMedia(doc.phoneNumberId, file.bytes, file.mime, body.document.filename);
      if (up.kind !== 'uploaded') return { result: up, mediaId: null };
      mediaId = up.mediaId;
      // Remember the upload so a retry of the send does not upload again.
      await Outbox.updateOne({ _id: doc._id }, { $set: { mediaId } });
    }
    await limiter.take();
    const result = await graph.sendMessage(doc.phoneNumberId, to, { type: 'document', document: { id: mediaId, filename: body.document.filename, caption: body.document.caption } }, doc._id);
    return { result, mediaId };
  }

  /**
   * One pass: claim every head that is due and hand it to the handler. `wait` (tests, drains) waits
   * for what it claimed; the loop does not, so one slow item (a large MY DATA) never holds back
   * other subscribers' work: the next pass starts at once and finished items kick the loop.
   */
  async function runOnce(wait = true): Promise<number> {
    const now = deps.clock.now();
    // Every open item, in order: a recipient's head is its oldest open item; only a head that is
    // due (or whose sender's lease ran out) is sent, so a retry holds back what follows it.
    const open = await Outbox.find({ state: { $in: OPEN } }, { _id: 1, subscriberId: 1, order: 1, state: 1, nextAttemptAt: 1, leaseUntil: 1 })
      .sort({ order: 1 })
      .limit(5000)
      .lean();
    const dueNow = headsOf(open, (c) => String(c.subscriberId)).filter(
      (c) => (c.state === 'pending' && c.nextAttemptAt <= now) || (c.state === 'sending' && c.leaseUntil && c.leaseUntil < now),
    );
    return claimAndWork({
      candidates: dueNow.slice(0, 500),
      claim: (c) =>
        Outbox.findOneAndUpdate(
          { _id: c._id, ...due(now) },
          { $set: { state: 'sending', leaseUntil: new Date(now.getTime() + leaseMs) }, $inc: { attempts: 1 } },
          { returnDocument: 'after' },
        ).lean(),
      work: (doc) => sendOne(doc as Item).catch((err) => log.error({ err, item: doc._id }, 'send crashed; the lease will expire and it is retried')),
      inHand,
      concurrency,
      stopping: () => loop.stopping,
      onSettled: () => loop.kick(),
      wait,
    });
  }

  const { loop, start, kick, stop } = workerLoop({
    pass: () => runOnce(false),
    refreshBacklog: async () => {
      deps.metrics.outboxBacklog.set(await Outbox.countDocuments({ state: { $in: OPEN } }));
    },
    inHand,
    idleMs,
    onError: (err) => log.warn({ err }, 'outbox poll failed; retrying'),
  });

  return { runOnce, start, kick, stop };
}
