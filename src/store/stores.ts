import type { Model } from 'mongoose';
import type { Clock } from '../lib/clock';
import type { Pii } from '../privacy/pii';
import { createAuditStore } from './auditStore';
import { createClaimStore } from './claimStore';
import { createConsentStore } from './consentStore';
import { createConversationStore } from './conversationStore';
import { createErasureJobStore } from './erasureJobStore';
import { createEventStore } from './eventStore';
import { createExportStore } from './exportStore';
import { createInboxStore } from './inboxStore';
import { createKvStore } from './kvStore';
import { createLedgerStore } from './ledgerStore';
import { createMediaDeletionStore } from './mediaDeletionStore';
import type { Models } from './models';
import { createOptInSourceStore } from './optInSourceStore';
import { createOutboxStore } from './outboxStore';
import { createRequestStore } from './requestStore';
import { createStaffStore, type StaffDoc } from './staffStore';
import { createSubscriberStore } from './subscriberStore';
import { createSuppressionStore } from './suppressionStore';

export type Stores = ReturnType<typeof createStores>;

// Each store is typed by its own document shape; the registry's models are looser.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const as = <T>(m: Model<any>) => m as unknown as Model<T>;

/** One owner per collection: everything else reads and writes through these. */
export function createStores(models: Models, pii: Pii, clock: Clock) {
  const kv = createKvStore(as(models.Kv), clock);
  const claims = createClaimStore(as(models.Claim));
  return {
    kv,
    claims,
    subscribers: createSubscriberStore(as(models.Subscriber), pii),
    suppressions: createSuppressionStore(as(models.Suppression), as(models.OptOutSignal)),
    consents: createConsentStore(as(models.Consent), pii),
    requests: createRequestStore(as(models.Request)),
    ledger: createLedgerStore(as(models.Ledger), kv, clock),
    conversation: createConversationStore(as(models.Message), pii),
    exports: createExportStore(as(models.Export), pii),
    erasureJobs: createErasureJobStore(as(models.ErasureJob), pii, claims),
    outbox: createOutboxStore(as(models.Outbox), pii, claims),
    inbox: createInboxStore(as(models.Inbox), pii, claims),
    mediaDeletions: createMediaDeletionStore(as(models.MediaDeletion), claims),
    staff: createStaffStore(as<StaffDoc>(models.Staff), as(models.StaffSession)),
    audit: createAuditStore(as(models.StaffAudit), kv, pii, clock),
    events: createEventStore(as(models.Event), pii, claims),
    optInSources: createOptInSourceStore(as(models.OptInSource)),
  };
}
