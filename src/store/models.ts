import type { Connection, Model } from 'mongoose';
import { staffAuditSchema } from './auditStore';
import { claimSchema } from './claimStore';
import { consentSchema } from './consentStore';
import { messageSchema } from './conversationStore';
import { erasureJobSchema } from './erasureJobStore';
import { eventSchema } from './eventStore';
import { exportSchema } from './exportStore';
import { inboxSchema } from './inboxStore';
import { kvSchema } from './kvStore';
import { ledgerSchema } from './ledgerStore';
import { mediaDeletionSchema } from './mediaDeletionStore';
import { optInSourceSchema } from './optInSourceStore';
import { outboxSchema } from './outboxStore';
import { requestSchema } from './requestStore';
import { staffSchema, staffSessionSchema } from './staffStore';
import { subscriberSchema } from './subscriberStore';
import { optOutSignalSchema, suppressionSchema } from './suppressionStore';

/**
 * The collections, each defined (fields, indexes) by the store that owns it. Portable between
 * MongoDB 7/8 and FerretDB v1.24.2 (https://docs.ferretdb.io/diff/): no TTL or partial indexes, no
 * `select: false` (FerretDB rejects findAndModify projections), no transactions, and unique `_id`
 * inserts for idempotency (store/insertOnce.ts). Personal values are stored sealed (`*Enc`,
 * privacy/pii.ts) and found through keyed blind indexes.
 */
export function createModels(conn: Connection) {
  return {
    Inbox: conn.model('Inbox', inboxSchema),
    Subscriber: conn.model('Subscriber', subscriberSchema),
    Consent: conn.model('Consent', consentSchema),
    Message: conn.model('Message', messageSchema),
    Outbox: conn.model('Outbox', outboxSchema),
    Request: conn.model('Request', requestSchema),
    Ledger: conn.model('Ledger', ledgerSchema),
    Suppression: conn.model('Suppression', suppressionSchema),
    OptOutSignal: conn.model('OptOutSignal', optOutSignalSchema),
    MediaDeletion: conn.model('MediaDeletion', mediaDeletionSchema),
    ErasureJob: conn.model('ErasureJob', erasureJobSchema),
    Export: conn.model('Export', exportSchema),
    Kv: conn.model('Kv', kvSchema),
    Claim: conn.model('Claim', claimSchema),
    Staff: conn.model('Staff', staffSchema),
    StaffSession: conn.model('StaffSession', staffSessionSchema),
    StaffAudit: conn.model('StaffAudit', staffAuditSchema),
    Event: conn.model('Event', eventSchema),
    OptInSource: conn.model('OptInSource', optInSourceSchema),
  };
}

export type Models = ReturnType<typeof createModels>;

/** Creates collections and indexes explicitly (autoIndex is off so production start-up is predictable). */
export async function ensureIndexes(models: Models): Promise<void> {
  for (const model of Object.values(models) as unknown as Model<unknown>[]) {
    await model.createCollection().catch((err: { code?: number }) => {
      if (err.code !== 48) throw err; // NamespaceExists
    });
    await model.createIndexes();
  }
}
