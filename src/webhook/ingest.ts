import type { Deps } from '../deps';
import { AppError } from '../lib/errors';
import { at } from '../privacy/pii';
import type { Envelope } from './envelope';
import { explode } from './explode';
import { inboxWriter, type WriteResult } from './inboxWriter';
import type { InboxDoc } from '../store/inboxStore';

export type IngestOutcome = {
  kind: 'stored';
  items: number;
  fresh: number;
  duplicates: number;
  /** The fresh items to process, as stored. */
  stored: InboxDoc[];
};

/**
 * Persists every item of a delivery before anyone answers 200: a STOP that was acknowledged but
 * not stored would be lost. Redeliveries collide on the item id and are skipped, not reprocessed.
 * Throws DB.UNAVAILABLE when the write did not happen, so the edge can answer 503 and Meta retries.
 */
/** JSON of a payload, or null for values nested too deep to serialise (hostile input). */
function trySerialise(payload: unknown): string | null {
  try {
    return JSON.stringify(payload);
  } catch {
    return null;
  }
}

export async function ingestDelivery(deps: Deps, envelope: Envelope): Promise<IngestOutcome> {
  const now = deps.clock.now();
  const drafts = explode(envelope, {
    nowMs: now.getTime(),
    pii: deps.pii,
    ourNumbers: new Set(deps.config.whatsapp.phoneNumberIds),
    replayWindowMs: deps.config.replayWindowMs,
  });
  // Statuses about an erased number (the erasure confirmation's sent/delivered/read) are dropped
  // unstored: nothing of that person is written again (README, Data protection).
  const statusKeys = [...new Set(drafts.filter((d) => d.field === 'statuses' && d.identity).map((d) => deps.pii.blindIndex(d.identity!)))];
  const erased = await deps.stores.suppressions.suppressedAmong(statusKeys);
  const kept = erased.size ? drafts.filter((d) => !(d.field === 'statuses' && d.identity && erased.has(deps.pii.blindIndex(d.identity)))) : drafts;
  // Into this process's inbox worker's hand when it runs and keeps up (lib/handOver.ts): stored
  // already leased to it, its first claim made by this write.
  const toWork = kept.filter((d) => d.state === 'pending').map((d) => d._id);
  const leaseMs = deps.handOver.leaseFor('inbox', toWork);
  const docs = kept.map((d) => {
    // An item that cannot be serialised is kept aside (ignored) rather than failing the delivery.
    const json = trySerialise(d.payload);
    return {
      _id: d._id,
      field: d.field,
      type: json ? d.type : 'invalid',
      subscriberKey: d.identity ? deps.pii.blindIndex(d.identity) : null,
      payloadEnc: deps.pii.encrypt(json ?? JSON.stringify({ field: d.field, unserialisable: true }), at('inbox', 'payloadEnc', d._id)),
      order: d.order,
      receivedAt: now,
      ...(json && d.state === 'pending' && leaseMs
        ? { state: 'processing', leaseUntil: new Date(now.getTime() + leaseMs), attempts: 1 }
        : { state: json ? d.state : 'ignored', leaseUntil: null, attempts: 0 }),
      lastError: null,
      processedAt: null,
    };
  });
  for (const d of drafts) {
    deps.metrics.webhookItems.inc({ field: d.field, type: d.type });
    if (d.aside) deps.metrics.webhookKeptAside.inc({ reason: d.aside });
  }
  if (docs.length < drafts.length) deps.log.child({ module: 'webhook' }).debug({ dropped: drafts.length - docs.length }, 'statuses for erased numbers dropped');
  if (docs.length === 0) return { kind: 'stored', items: drafts.length, fresh: 0, duplicates: 0, stored: [] };
  let written: WriteResult;
  try {
    written = await inboxWriter(deps)(docs);
  } catch (err) {
    if (leaseMs) deps.handOver.forgo('inbox', toWork);
    throw new AppError('DB.UNAVAILABLE', 'could not store the delivery', { httpStatus: 503, cause: err });
  }
  // The ones to process, as the inbox holds them (inboxStore.insertMany adds `open`): the worker claims these without reading them.
  // Redeliveries were not written: their places in the worker's hand are given back.
  if (leaseMs && written.duplicates) {
    const fresh = new Set(written.stored.map((d) => d._id));
    deps.handOver.forgo(
      'inbox',
      toWork.filter((id) => !fresh.has(id)),
    );
  }
  const stored = written.stored.filter((d) => d.state === 'pending' || d.state === 'processing').map((d) => ({ ...d, open: true }) as unknown as InboxDoc);
  return { kind: 'stored', items: docs.length, fresh: written.stored.length, duplicates: written.duplicates, stored };
}
