import type { Model } from 'mongoose';
import type { Deps } from '../deps';
import { at } from '../privacy/pii';

/** The collections differ in shape; rotation only touches `_id` and the named string fields. */
type AnyModel = Model<Record<string, unknown>>;

/** Every sealed field, by collection. A new sealed field must be listed here to be rotated. */
export function sealedFields(deps: Deps): { model: AnyModel; fields: string[] }[] {
  const m = deps.models;
  return [
    { model: m.Subscriber, fields: ['waIdEnc', 'bsuidEnc', 'nameEnc'] },
    { model: m.Message, fields: ['textEnc'] },
    { model: m.Consent, fields: ['detailEnc'] },
    { model: m.Inbox, fields: ['payloadEnc'] },
    { model: m.Outbox, fields: ['toEnc', 'bodyEnc', 'lineEnc'] },
    { model: m.Export, fields: ['contentEnc'] },
    { model: m.ErasureJob, fields: ['toEnc'] },
    { model: m.StaffAudit, fields: ['noteEnc'] },
    { model: m.Event, fields: ['bodyEnc'] },
  ] as unknown as { model: AnyModel; fields: string[] }[];
}

export interface RotationReport {
  activeKeyId: string;
  reEncrypted: number;
  remaining: number;
}

/**
 * Re-encrypts every sealed value that is not yet under the active key (the first of
 * PII_ENCRYPTION_KEYS), or not yet bound to its place (`e1.` values). Each value is opened and
 * sealed again at its own place (collection, field, document id). Resumable: it only ever looks
 * for values under other keys, and each update is conditional on the old ciphertext, so a crash or
 * a concurrent writer is harmless and the next run carries on. After a run that reports
 * `remaining: 0`, old keys can be removed.
 */
export async function rotateKeys(deps: Deps, opts: { batch?: number; onProgress?: (n: number) => void } = {}): Promise<RotationReport> {
  const kid = deps.pii.activeKeyId;
  const notActive = { $type: 'string', $not: new RegExp(`^e2\\.${kid.replace(/[^\w-]/g, '')}\\.`) };
  const batch = opts.batch ?? 500;
  let reEncrypted = 0;
  for (const { model, fields } of sealedFields(deps)) {
    const collection = model.collection.collectionName;
    for (const field of fields) {
      for (;;) {
        const docs = await model
          .find({ [field]: notActive }, { [field]: 1 })
          .limit(batch)
          .lean();
        if (docs.length === 0) break;
        for (const d of docs as Record<string, unknown>[]) {
          const old = d[field] as string;
          const place = at(collection, field, d._id);
          const fresh = deps.pii.encrypt(deps.pii.decrypt(old, place, { legacy: true }), place);
          const r = await model.updateOne({ _id: d._id, [field]: old }, { $set: { [field]: fresh } });
          reEncrypted += r.modifiedCount;
        }
        opts.onProgress?.(reEncrypted);
      }
    }
  }
  let remaining = 0;
  for (const { model, fields } of sealedFields(deps)) for (const f of fields) remaining += await model.countDocuments({ [f]: notActive });
  await deps.models.Kv.updateOne(
    { _id: 'keys.lastRotation' },
    { $set: { value: { activeKeyId: kid, reEncrypted, remaining }, at: deps.clock.now() } },
    { upsert: true },
  );
  return { activeKeyId: kid, reEncrypted, remaining };
}
