import type { Types } from 'mongoose';
import type { Deps } from '../deps';
import { IDLE_POLL_MS, queueWorker } from '../lib/pollingLoop';
import type { OutboxDoc } from '../store/outboxStore';
import { windowOpen } from '../store/subscriberStore';
import { documentBody, isPendingDocument, templateBody, type PendingDocumentBody } from '../messages/buildMessage';
import { graphKey } from '../privacy/ids';
import { openExportContent } from '../rights/exportFiles';
import { optOut } from '../rights/optOut';
import { consentGate } from './gate';
import type { SendProfile } from './enqueue';
import { failureTitle, isMarketingStop, type GraphClient, type SendResult } from './graphClient';
import { MEDIA_FALLBACK_MS } from './media';
import { createRateLimiter, type RateLimiter } from './rateLimiter';

export interface OutboxWorker {
  runOnce(): Promise<number>;
  start(): void;
  kick(): void;
  /** Items this process just queued, as queued: claimed without being read again. */
  offer(docs: OutboxDoc[]): void;
  /** Places in this sender's hand for messages about to be queued (lib/handOver.ts), and the lease they are born with. */
  reserve(ids: string[]): boolean;
  forgo(ids: string[]): void;
  readonly leaseMs: number;
  stop(): Promise<void>;
}

export interface OutboxOptions {
  leaseMs?: number;
  concurrency?: number;
  idleMs?: number;
  /** Open items read per pass (the oldest). */
  windowSize?: number;
  /** Give up on a message still failing after this long (it is marked failed, visible to staff). */
  maxAgeMs?: number;
}

type Item = OutboxDoc & { subscriberId: Types.ObjectId; profile?: SendProfile };

/**
 * How long the profile a turn handed over with its replies stands in for reading it: the turn read
 * and refreshed it a moment ago. Beyond that (the sender was busy, or paced), it is read again, as
 * a STOP, a new language or an erasure may have come since.
 */
const PROFILE_FRESH_MS = 2000;

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
  const { outbox, conversation, subscribers, exports, mediaDeletions } = deps.stores;
  const log = deps.log.child({ module: 'outbox' });
  const leaseMs = opts.leaseMs ?? Math.max(30_000, deps.config.graph.timeoutMs * 3);
  const concurrency = opts.concurrency ?? 16;
  const idleMs = opts.idleMs ?? IDLE_POLL_MS;
  const maxAgeMs = opts.maxAgeMs ?? 24 * 3600_000;
  // Meta's throughput limit is per business number: one bucket each.
  const limiters = new Map<string, RateLimiter>();
  const limiterFor = (from: string) => {
    let l = limiters.get(from);
    if (!l) limiters.set(from, (l = createRateLimiter(deps.config.graph.ratePerSecond)));
    return l;
  };

  /**
   * The message's line in the conversation: written now if the sender was to write it (a reply
   * written into its hand), else moved on. Called once the item's own record says how the send
   * ended, and only if the item was still there: an erasure meanwhile leaves no line behind. A line
   * that cannot be written is logged, not retried: retrying would send the message again.
   */
  async function writeLine(doc: Item, status: string) {
    try {
      const line = outbox.lineOf(doc);
      const fresh =
        line && (await conversation.record({ id: doc._id, subscriberId: doc.subscriberId, kind: doc.kind, ...line, status, at: new Date(doc.createdAt) }));
      // Written already (a step replayed after a crash, or a retry that showed it queued): its status moves.
      if (!fresh) await conversation.setStatus(doc._id, status);
    } catch (err) {
      log.error({ err, item: doc._id }, 'conversation line not written');
    }
  }

  async function finish(doc: Item, set: Record<string, unknown>, messageStatus: string) {
    const id = doc._id;
    // A purged item (the erasure confirmation) goes whatever happened: nothing of the person stays.
    if (doc.purgeAfterSend) await outbox.remove(id);
    // With the claims so far: an item claimed as offered was never leased in the database.
    else if (!(await outbox.settle(id, { ...set, attempts: doc.attempts }))) return; // erased meanwhile
    await writeLine(doc, messageStatus);
    deps.bus.emit('conversation', String(doc.subscriberId));
  }

  async function sendOne(doc: Item): Promise<void> {
    const now = deps.clock.now();
    const handed = doc.profile && now.getTime() - doc.profile.readAt.getTime() < PROFILE_FRESH_MS ? doc.profile : null;
    const sub = handed ?? (await subscribers.byId(doc.subscriberId));
    if (sub) {
      const gate = await consentGate(deps.stores, { token: sub.key, category: doc.category as 'rights' | 'service' | 'marketing' });
      if (!gate.allowed) {
        deps.metrics.gateRefusals.inc({ reason: gate.reason });
        await finish(doc, { state: 'failed', error: { code: 0, title: `refused by the consent gate: ${gate.reason}` } }, 'failed');
        return;
      }
    } else if (!doc.purgeAfterSend) {
      // The person was erased while this waited: nothing of theirs is sent or kept.
      await outbox.remove(doc._id);
      return;
    }
    let body = outbox.bodyOf(doc);
    // Meta refuses free-form messages outside the 24 h customer-service window (131047).
    if (sub && doc.kind !== 'template' && !windowOpen(sub, now)) {
      const template = deps.config.graph.utilityTemplate;
      if (!template) {
        log.warn({ item: doc._id, code: 131047 }, 'not sent: outside the 24-hour window and no template configured');
        await finish(doc, { state: 'failed', error: { code: 131047, title: 'outside the 24-hour window and no utility template configured' } }, 'failed');
        return;
      }
      body = templateBody(template, sub.locale ?? deps.config.defaultLocale);
    }
    const to = outbox.recipientOf(doc);
    const from = doc.phoneNumberId;
    const limiter = limiterFor(from);
    const started = process.hrtime.bigint();
    let result: SendResult;
    let mediaId: string | null = doc.mediaId ?? null;
    if (isPendingDocument(body)) {
      const sent = await sendDocument(doc, to, body, limiter);
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
      await finish(doc, { state: 'sent', graphKey: graphKey(deps.pii, result.graphId), sentAt: deps.clock.now(), error: null }, 'sent');
      if (mediaId) await mediaDeletions.schedule([{ mediaId, phoneNumberId: from }], new Date(deps.clock.now().getTime() + MEDIA_FALLBACK_MS));
      return;
    }
    if (result.kind === 'retry' && now.getTime() - new Date(doc.createdAt).getTime() < maxAgeMs) {
      deps.metrics.sendRetries.inc();
      const wait = backoffMs(doc.attempts, result.retryAfterMs);
      const kept = await outbox.retryAt(doc._id, new Date(deps.clock.now().getTime() + wait), { code: result.code, title: result.title }, doc.attempts);
      // Staff see a message that waits for a retry as queued.
      if (kept && doc.lineEnc) await writeLine(doc, 'queued');
      log.warn({ item: doc._id, code: result.code, attempt: doc.attempts, waitMs: Math.round(wait) }, 'send will be retried');
      return;
    }
    await finish(doc, { state: 'failed', error: { code: result.code, title: failureTitle(result.code) } }, 'failed');
    if (mediaId) await mediaDeletions.schedule([{ mediaId, phoneNumberId: from }], deps.clock.now());
    log.warn({ item: doc._id, code: result.code }, 'send failed permanently');
    // The person stopped marketing in WhatsApp itself; record it as their opt-out.
    const person = isMarketingStop(result.code) ? await subscribers.byId(doc.subscriberId) : null;
    if (person) {
      await optOut(deps.rights, person, { requestId: `meta131050:${doc._id}`, source: 'meta_131050', channel: 'meta', at: deps.clock.now(), silent: true });
    }
  }

  async function sendDocument(
    doc: Item,
    to: { phone?: string; bsuid?: string },
    body: PendingDocumentBody,
    limiter: RateLimiter,
  ): Promise<{ result: SendResult; mediaId: string | null }> {
    let mediaId: string | undefined = doc.mediaId ?? undefined;
    if (!mediaId) {
      const exp = await exports.get(body.exportId);
      if (!exp) return { result: { kind: 'failed', code: 0, title: 'export no longer available' }, mediaId: null };
      // The stored file says what it is (a PDF, or the JSON sent as text/plain): both on Meta's list.
      const file = openExportContent(exp.open());
      await limiter.take();
      const up = await graph.uploadMedia(doc.phoneNumberId, file.bytes, file.mime, body.document.filename);
      if (up.kind !== 'uploaded') return { result: up, mediaId: null };
      mediaId = up.mediaId;
      // Remember the upload so a retry of the send does not upload again.
      await outbox.rememberUpload(doc._id, mediaId);
    }
    await limiter.take();
    const result = await graph.sendMessage(doc.phoneNumberId, to, documentBody(mediaId, body), doc._id);
    return { result, mediaId };
  }

  // In order: a recipient's head is their oldest open item; only a head that is due (or whose
  // sender's lease ran out) is sent, so a retry holds back what follows it.
  const worker = queueWorker({
    now: () => deps.clock.now(),
    window: (limit) => outbox.openItems(limit),
    windowSize: opts.windowSize ?? 512,
    idOf: (c) => c._id,
    keyOf: (c) => String(c.subscriberId),
    dueAt: (c) => (c.state === 'pending' ? c.nextAttemptAt : (c.leaseUntil ?? new Date(0))),
    claim: (c, now) => outbox.claim(c, now, leaseMs),
    claimOffered: (c, offered, now) => outbox.claimOffered(c, offered, now, leaseMs),
    inHandAsWritten: (c, offered: OutboxDoc, now) => outbox.inHandAsWritten(c, offered, now, leaseMs),
    release: (offered: OutboxDoc, now: Date) => outbox.release(offered, now, leaseMs),
    leaseMs,
    work: (doc) => sendOne(doc as Item).catch((err) => log.error({ err, item: doc._id }, 'send crashed; the lease will expire and it is retried')),
    concurrency,
    idleMs,
    refreshBacklog: async () => deps.metrics.outboxBacklog.set(await outbox.backlog()),
    onError: (err) => log.warn({ err }, 'outbox poll failed; retrying'),
  });
  return { ...worker, leaseMs };
}
