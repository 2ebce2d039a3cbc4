import { messageKey } from '../../../src/privacy/ids';
import { envelope, messagesChange, signed, textMessage } from '../../support/whatsapp';
import { postSigned, type PostResult } from './http';
import { testPii } from './inspector';
import { between, pick, rng } from './random';
import { sleep } from './wait';

/**
 * Conversations: many subscribers, each sending keywords one after the other, posted to the
 * service the way Meta does (a delivery without a 200 is posted again).
 */
export const KEYWORDS = ['STOP', 'START', 'HELP', 'STATUS'] as const;
export type Keyword = (typeof KEYWORDS)[number];

export interface SentMessage {
  /** The WhatsApp message id posted (it names the number, as Meta's do). */
  id: string;
  /** What the service stores it under: the inbox id, the inbound message id and the prefix of its replies' ids. */
  key: string;
  waId: string;
  /** One of KEYWORDS, or a line of a scripted conversation (DriverOptions.script). */
  keyword: string;
  seq: number;
  ts: number;
  attempts: PostResult[];
  ackedAt?: number;
  /** The service (base URL) whose 200 acknowledged it. */
  ackedBy?: string;
}

export interface DriverOptions {
  baseUrl: string;
  /** Distinct 11-digit prefix per scenario, so numbers never collide between scenarios. */
  numberPrefix: string;
  subscribers: number;
  seed: number;
  /** Pause between two messages of one subscriber. */
  gapMs: [number, number];
  /** Upper bound of messages per subscriber (the stream also stops when stop() is called). */
  maxPerSubscriber: number;
  /** Pause before re-posting a delivery that was not acknowledged. */
  retryMs?: number;
  /** Give up re-posting after this long (the check then reports the delivery as never acknowledged). */
  ackDeadlineMs?: number;
  /**
   * Meta also redelivers deliveries that were acknowledged: with this probability an acknowledged
   * delivery is posted again, byte for byte, 0-3 s later (fire and forget; the answer is recorded).
   */
  redeliveryRate?: number;
  /**
   * Several replicas of the service behind one webhook address: each post goes to the next of
   * these in turn (round-robin), and a redelivery to another replica than the one that
   * acknowledged the delivery. Replaces baseUrl; setTargets takes one out of rotation and back.
   */
  targets?: string[];
  /**
   * A fixed conversation per subscriber (its index in waIds()) instead of random keywords: these
   * lines in order, then the subscriber is done.
   */
  script?: (waId: string, index: number) => readonly string[];
}

/**
 * Posts a continuous, mixed stream of conversations. A subscriber's next message is sent only after
 * the previous one was acknowledged (WhatsApp timestamps increase by 2 s per message), so "the last
 * keyword" is well defined; subscribers run concurrently. Every unacknowledged delivery is posted
 * again, byte for byte, until it gets a 200 — as Meta does.
 */
export class ConversationDriver {
  messages: SentMessage[] = [];
  responses: PostResult[] = [];
  /** Answers to redeliveries of already acknowledged deliveries. */
  redeliveries: PostResult[] = [];
  private stopping = false;
  private runners: Promise<void>[] = [];
  private extra = new Set<Promise<void>>();
  private attemptWaiters: { target?: string; resolve: () => void }[] = [];
  /** Posts and acknowledgements per target (round-robin share), redeliveries included. */
  readonly byTarget: Record<string, { posts: number; acknowledged: number; redeliveries: number }> = {};
  private turn = 0;
  private readonly r: () => number;
  readonly baseTs = Math.floor(Date.now() / 1000) - 1800;

  constructor(private o: DriverOptions) {
    this.r = rng(o.seed);
  }

  waIds(): string[] {
    return Array.from({ length: this.o.subscribers }, (_, i) => `${this.o.numberPrefix}${String(i).padStart(4, '0')}`);
  }

  start(): void {
    this.waIds().forEach((waId, i) => this.runners.push(this.run(waId, i)));
  }

  /** Stops starting new messages; resolves when every started message was acknowledged (or gave up). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.finished();
  }

  /** Resolves when every conversation has ended by itself (a script's last line, or maxPerSubscriber) and every redelivery was answered. */
  async finished(): Promise<void> {
    await Promise.all(this.runners);
    await Promise.all([...this.extra]);
  }

  setBaseUrl(url: string): void {
    this.o.baseUrl = url;
  }

  /** The replicas in rotation (a load balancer's health check took one out, or put it back). */
  setTargets(urls: string[]): void {
    this.o.targets = [...urls];
  }

  /** Resolves when the next post of a new (not yet acknowledged) delivery starts (to `target`, if given). */
  nextAttempt(target?: string): Promise<void> {
    return new Promise((resolve) => this.attemptWaiters.push({ target, resolve }));
  }

  /** Where the next post goes: baseUrl, or the next replica in turn other than `avoid` (when another is up). */
  private nextTarget(avoid?: string): string {
    const targets = this.o.targets;
    if (!targets?.length) return this.o.baseUrl;
    let url = targets[this.turn++ % targets.length];
    if (url === avoid && targets.length > 1) url = targets[this.turn++ % targets.length];
    this.byTarget[url] ??= { posts: 0, acknowledged: 0, redeliveries: 0 };
    return url;
  }

  private async run(waId: string, index: number): Promise<void> {
    const script = this.o.script?.(waId, index);
    // Stagger the first messages.
    await sleep(between(this.r, 0, this.o.gapMs[1]));
    for (let seq = 0; seq < (script?.length ?? this.o.maxPerSubscriber) && !this.stopping; seq++) {
      const keyword = script ? script[seq] : pick(this.r, KEYWORDS);
      const ts = this.baseTs + seq * 2;
      const id = `wamid.FAULT.${waId}.${seq}`;
      const { raw, signature } = signed(envelope(messagesChange({ waId, name: `Sub ${waId.slice(-4)}` }, [textMessage(keyword, { id, timestamp: ts })])));
      const m: SentMessage = { id, key: messageKey(testPii(), id), waId, keyword, seq, ts, attempts: [] };
      this.messages.push(m);
      const deadline = Date.now() + (this.o.ackDeadlineMs ?? 180_000);
      while (Date.now() < deadline) {
        const url = this.nextTarget();
        const pending = postSigned(url, raw, signature);
        if (this.byTarget[url]) this.byTarget[url].posts += 1;
        const waiting = this.attemptWaiters;
        this.attemptWaiters = waiting.filter((w) => w.target && w.target !== url);
        for (const w of waiting) if (!w.target || w.target === url) w.resolve();
        const res = await pending;
        m.attempts.push(res);
        this.responses.push(res);
        if (res.status === 200) {
          m.ackedAt = res.endedAt;
          m.ackedBy = url;
          if (this.byTarget[url]) this.byTarget[url].acknowledged += 1;
          break;
        }
        await sleep(this.o.retryMs ?? 200);
      }
      if (!m.ackedAt) return; // never acknowledged: stop this conversation (reported by the check)
      if (this.r() < (this.o.redeliveryRate ?? 0)) {
        const p: Promise<void> = sleep(between(this.r, 0, 3000))
          .then(() => {
            const url = this.nextTarget(m.ackedBy);
            if (this.byTarget[url]) this.byTarget[url].redeliveries += 1;
            return postSigned(url, raw, signature);
          })
          .then((res) => void this.redeliveries.push(res))
          .finally(() => this.extra.delete(p));
        this.extra.add(p);
      }
      await sleep(between(this.r, this.o.gapMs[0], this.o.gapMs[1]));
    }
  }
}
