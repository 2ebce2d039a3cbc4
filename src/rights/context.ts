import type { Types } from 'mongoose';
import type { Clock } from '../lib/clock';
import type { SecurityEvent } from '../privacy/alerts';
import type { Pii } from '../privacy/pii';
import type { Recipient } from '../store/subscriberStore';
import type { Stores } from '../store/stores';
import type { Policy } from './policy';
import type { SubjectExport } from './subjectExport';
import type { ReplySpec } from './outcome';

/**
 * What the use cases are given: the stores, the clock, and a few ports the edges implement. Each
 * use case names the part it needs (`Pick<RightsContext, …>`), so its signature says what it
 * touches. Nothing here is HTTP, i18next or a raw model.
 */
export interface RightsContext extends Stores {
  clock: Clock;
  /** Keyed hashes for ids a person must not be able to guess (question nonces, export ids). */
  keys: Pick<Pii, 'blindIndex'>;
  policy: Policy;
  /** A security event (counted, logged, alerted in bursts: privacy/alerts.ts). */
  signal(event: SecurityEvent, fields?: Record<string, unknown>): void;
  /** The MY DATA PDF in the person's language (documents/exportPdf.ts). */
  renderPdf(locale: string, data: SubjectExport): Promise<Buffer>;
  /** A message key in a language (the titles of our buttons, to recognise one typed out). */
  translate(locale: string, key: string): string;
  /** Queues messages to someone who may no longer have a profile (the erasure confirmation). */
  queueReplies(batch: ReplyBatch): Promise<void>;
  /**
   * Tells the other systems that hold the person's data (GDPR Art. 19: every recipient learns of an
   * erasure; Art. 21: an objection to marketing concerns every marketing tool): one signed event
   * per configured receiver, queued durably (events/). Idempotent on the event's id.
   */
  announce(event: PrivacyEvent): Promise<void>;
}

/** A person as the events name them: their number, or their BSUID when they are known only by username. */
export type SubjectIdentity = { waId?: string | null; bsuid?: string | null };

export type PrivacyEventType = 'consent.granted' | 'consent.withdrawn' | 'erasure.requested' | 'erasure.completed' | 'access.served' | 'suppression.added';

/** A right carried out, as other systems are told of it. */
export interface PrivacyEvent {
  /** Derived from what caused it (a request id and the type): a replayed step announces nothing twice. */
  id: string;
  type: PrivacyEventType;
  /** The person's token: their events reach each receiver in order. */
  subjectToken: string;
  /**
   * Who, for each receiver's pseudonym (and the number, where a receiver is trusted with it): asked
   * only when there is a receiver (opening the number is work a STOP need not do otherwise).
   */
  identity: () => SubjectIdentity;
  /** When the person acted (or the step was done). */
  at: Date;
  /** What a receiver needs besides (source, channel, the request's id): never message text. */
  data: Record<string, string | number | boolean | null>;
}

/** Replies queued outside a conversation turn: the caller of the use case queues the usual ones. */
export interface ReplyBatch {
  keyPrefix: string;
  subscriberId: Types.ObjectId;
  to: Recipient;
  from: string;
  locale: string;
  replies: ReplySpec[];
  /** Also write the message into the conversation staff see. */
  record: boolean;
  /** Delete the outbox item once sent (nothing of an erased person stays). */
  purgeAfterSend: boolean;
}
