import type { Model } from 'mongoose';
import type { Deps } from '../deps';
import { isDuplicateKey } from '../store/insertOnce';
import { failureTitle } from '../outbox/graphClient';
import { AppError } from '../lib/errors';
import { contentKey, graphKey, META_ID, rekey } from '../privacy/ids';
import { at, type Place } from '../privacy/pii';
import { closeRequest } from '../rights/ledger';
import type { Chain } from '../store/chain';
import { rotateKeys } from './rotateKeys';

type AnyDoc = Record<string, unknown> & { _id: unknown };
type AnyModel = Model<Record<string, unknown>>;

export interface MigrationReport {
  rekeyed: Record<string, number>;
  rechained: Record<string, { entries: number; verifiedBefore: boolean }>;
  resealed: number;
}

/**
 * Turns a database written before ids of our own into one that holds no Meta id outside sealed
 * values (`npm run cli -- migrate-ids`, with the app stopped):
 * 1. documents whose id holds a Meta message id (inbox, messages, outbox, requests, consents,
 *    erasure jobs, exports) are re-inserted under the keyed id (privacy/ids.ts) and the old one
 *    deleted; their sealed values are sealed again at their new place; references to them
 *    (pending questions, hints, export ids in queued bodies) are rewritten; Graph message ids become
 *    keyed hashes; free-text consent details are sealed; error titles become our own words;
 * 2. the rights ledger and the staff audit log are re-chained (see `rechain`): an entry's id and
 *    content change, so their hashes must; the old chain is verified first and its head is kept
 *    in `kv` and in the first entry of the new chain;
 * 3. every remaining `e1.` value is sealed again at its place (rotate-keys).
 * Each step looks only for what is still in the old form, so a run that stopped part-way is
 * finished by the next one.
 */
export async function migrateIds(deps: Deps, log: (line: string) => void = () => undefined, opts: { force?: boolean } = {}): Promise<MigrationReport> {
  const m = deps.models;
  const k = (id: string) => rekey(deps.pii, id);
  // Both chains are checked before anything changes: a broken one stops the migration untouched.
  if (!opts.force) {
    for (const chain of [deps.stores.ledger.chain, deps.stores.audit.chain]) {
      const v = await chain.verify((e) => ({ seq: e.seq }));
      if (!v.ok)
        throw new AppError(
          'MIGRATION.CHAIN_BROKEN',
          `${chain.spec.name}: broken at #${v.firstBroken?.seq} (${v.firstBroken?.reason}); investigate, or re-run with --force`,
        );
    }
  }
  const old = { $regex: /wamid\.|^exp-|^pref:|^raw:/ };
  const rekeyed: Record<string, number> = {};
  const reseal = (v: unknown, from: Place, to: Place) => (typeof v === 'string' ? deps.pii.encrypt(deps.pii.decrypt(v, from, { legacy: true }), to) : v);
  const place = (c: string, f: string, id: unknown) => at(c, f, id);

  async function move(
    model: AnyModel,
    name: string,
    sealed: string[],
    change: (d: AnyDoc, newId: string) => AnyDoc | Promise<AnyDoc>,
    newIdOf: (d: AnyDoc) => string = (d) => k(String(d._id)),
  ) {
    let n = 0;
    for (;;) {
      const docs = (await model.find({ _id: old }).limit(200).lean()) as AnyDoc[];
      if (docs.length === 0) break;
      for (const d of docs) {
        const newId = newIdOf(d);
        // Never delete a document that would not move: the old id would only be lost.
        if (newId === String(d._id)) throw new AppError('MIGRATION.UNMAPPED_ID', `${name}: an id of the old form maps to itself`);
        const next: AnyDoc = { ...(await change(d, newId)), _id: newId };
        for (const f of sealed) next[f] = reseal(d[f], place(name, f, d._id), place(name, f, newId));
        try {
          await model.collection.insertOne(next as never);
        } catch (err) {
          if (!isDuplicateKey(err)) throw err; // moved before a crash: only the old one is left to delete
        }
        await model.collection.deleteOne({ _id: d._id } as never);
        n += 1;
      }
    }
    rekeyed[name] = n;
    log(`${name}: ${n} documents re-keyed`);
  }

  await move(
    m.Inbox as unknown as AnyModel,
    'inbox',
    ['payloadEnc'],
    (d) => ({ ...d, lastError: d.lastError ? 'migrated' : null }),
    (d) => {
      const id = String(d._id);
      if (!id.startsWith('pref:')) return id.startsWith('raw:') ? contentKey(deps.pii, 'raw', id) : k(id);
      // A preference change's key is a keyed hash of its content, as ingestion computes it now.
      const p = (JSON.parse(deps.pii.decrypt(String(d.payloadEnc), place('inbox', 'payloadEnc', id), { legacy: true })) as { item: Record<string, unknown> })
        .item;
      return contentKey(deps.pii, 'pref', `${p.wa_id ?? ''}|${p.user_id ?? ''}|${p.category}|${p.value}|${p.timestamp}`);
    },
  );
  await move(m.Message as unknown as AnyModel, 'messages', ['textEnc'], (d) => d);
  await move(m.Outbox as unknown as AnyModel, 'outbox', ['toEnc'], (d, newId) => {
    const body = JSON.parse(deps.pii.decrypt(String(d.bodyEnc), place('outbox', 'bodyEnc', d._id), { legacy: true })) as Record<string, unknown>;
    if (typeof body.exportId === 'string') body.exportId = k(body.exportId);
    return { ...d, bodyEnc: deps.pii.encrypt(JSON.stringify(body), place('outbox', 'bodyEnc', newId)) };
  });
  await move(m.Request as unknown as AnyModel, 'requests', [], (d) => d);
  await move(m.Consent as unknown as AnyModel, 'consents', ['detailEnc'], (d) => d);
  await move(m.ErasureJob as unknown as AnyModel, 'erasureJobs', ['toEnc'], (d) => d);
  await move(m.Export as unknown as AnyModel, 'exports', ['contentEnc'], (d) => d);

  // Fields of the old scheme inside documents whose id is fine.
  const raw = (c: string) => deps.conn.db!.collection(c);
  for (const d of await raw('outbox')
    .find({ $or: [{ graphId: { $exists: true } }, { phoneNumberId: { $exists: false } }, { 'error.title': { $exists: true } }] })
    .toArray()) {
    const set: Record<string, unknown> = { phoneNumberId: d.phoneNumberId ?? deps.config.whatsapp.phoneNumberIds[0] };
    if (d.graphId) set.graphKey = graphKey(deps.pii, String(d.graphId));
    if (d.error) set.error = { code: d.error.code ?? 0, title: failureTitle(Number(d.error.code) || 0) };
    await raw('outbox').updateOne({ _id: d._id }, { $set: set, $unset: { graphId: 1 } });
  }
  for (const d of await raw('erasureJobs')
    .find({ phoneNumberId: { $exists: false } })
    .toArray()) {
    await raw('erasureJobs').updateOne({ _id: d._id }, { $set: { phoneNumberId: deps.config.whatsapp.phoneNumberIds[0] } });
  }
  for (const d of await raw('consents')
    .find({ detail: { $exists: true } })
    .toArray()) {
    const detailEnc = d.detail ? deps.pii.encrypt(String(d.detail), place('consents', 'detailEnc', d._id)) : null;
    await raw('consents').updateOne({ _id: d._id }, { $set: { detailEnc }, $unset: { detail: 1 } });
  }
  for (const d of await raw('subscribers')
    .find({ $or: [{ 'pending.requestId': old }, { hintRequestId: old }, { 'pending.sourceInboxId': { $exists: true } }] })
    .toArray()) {
    const set: Record<string, unknown> = {};
    // A question asked before buttons carried their own nonce cannot be answered: it is dropped,
    // and an erasure that waited for its answer is closed as expired (the person may ask again).
    if (d.pending) set.pending = null;
    if (d.pending?.kind === 'erasure' && typeof d.pending.requestId === 'string') {
      await closeRequest(deps.rights, k(d.pending.requestId), String(d.key), 'expired', 'question reset by an upgrade');
    }
    if (typeof d.hintRequestId === 'string') set.hintRequestId = k(d.hintRequestId);
    await raw('subscribers').updateOne({ _id: d._id }, { $set: set });
  }

  const rechained: MigrationReport['rechained'] = {};
  rechained.ledger = await rechain(deps, deps.stores.ledger.chain, opts, (e) => ({
    ...e,
    _id: k(String(e._id)),
    requestId: k(String(e.requestId)),
    detail: e.event === 'erasure.confirmed' ? 'button' : typeof e.detail === 'string' ? e.detail.replace(META_ID, (x) => k(x)) : e.detail,
  }));
  log(`ledger: ${rechained.ledger.entries} entries re-chained`);
  rechained.staffAudit = await rechain(deps, deps.stores.audit.chain, opts, (e) => {
    // A reveal's reason was free text: it becomes the sealed note, outside the hash.
    if (
      e.action !== 'reveal' ||
      e.detail === null ||
      ['person_request', 'delivery_problem', 'legal_obligation', 'fraud_investigation', 'other'].includes(String(e.detail))
    )
      return e;
    return { ...e, detail: 'other', noteEnc: deps.pii.encrypt(String(e.detail), place('staffAudit', 'noteEnc', e._id)) };
  });
  log(`staff audit: ${rechained.staffAudit.entries} entries re-chained`);

  const rotation = await rotateKeys(deps);
  log(`${rotation.reEncrypted} sealed values bound to their place`);
  return { rekeyed, rechained, resealed: rotation.reEncrypted };
}

/**
 * Re-chaining, when the content of entries must change (never silently):
 * 1. the chain is verified as it is, and the result, the old head (position and hash) and the time
 *    are kept in `kv` as `<chain>.rechain`;
 * 2. the new entries are computed from the checkpoint on (each linked to the new previous hash)
 *    into a scratch collection, then swapped in; the swap can be repeated after a crash;
 * 3. a `chain.rechained` entry is appended whose detail names the old head hash, so the new chain
 *    itself carries the anchor of the old one.
 * Nothing happens when no entry needs a change.
 */
export async function rechain(
  deps: Deps,
  chain: Chain,
  opts: { force?: boolean },
  transform: (e: AnyDoc) => AnyDoc,
): Promise<{ entries: number; verifiedBefore: boolean }> {
  const { Kv } = deps.models;
  const { spec, model } = chain;
  const db = deps.conn.db!;
  const scratch = db.collection(`${model.collection.collectionName}_rechain`);
  const stateId = `${spec.name}.rechain`;
  const state = (await Kv.findById(stateId).lean())?.value as { phase: string } | undefined;
  if (state?.phase !== 'swap') {
    const entries = (await model.find({}).sort({ seq: 1 }).lean()) as AnyDoc[];
    const changed = entries.map(transform);
    if (!changed.some((e, i) => JSON.stringify(e) !== JSON.stringify(entries[i]))) return { entries: 0, verifiedBefore: true };
    const before = await chain.verify((e) => ({ seq: e.seq }));
    // Re-chaining a chain that does not verify would hide the tampering: refused unless forced.
    if (!before.ok && !opts.force) {
      throw new AppError(
        'MIGRATION.CHAIN_BROKEN',
        `${spec.name}: broken at #${before.firstBroken?.seq} (${before.firstBroken?.reason}); investigate, or re-run with --force`,
      );
    }
    const start = await chain.checkpoint();
    const oldHead = entries.length ? { seq: entries[entries.length - 1].seq, hash: entries[entries.length - 1].hash } : start;
    await scratch.deleteMany({});
    let prevHash = start.hash;
    const fresh = changed.map((e) => {
      const entry = { ...e, prevHash } as AnyDoc & { seq: number; at: Date; prevHash: string };
      const hash = chain.hash(entry);
      prevHash = hash;
      return { ...entry, hash };
    });
    if (fresh.length) await scratch.insertMany(fresh as never[]);
    await Kv.updateOne(
      { _id: stateId },
      {
        $set: {
          value: { phase: 'swap', at: deps.clock.now(), oldHead, verifiedBefore: before.ok, firstBroken: before.firstBroken ?? null, entries: fresh.length },
          at: deps.clock.now(),
        },
      },
      { upsert: true },
    );
  }
  const info = (await Kv.findById(stateId).lean())!.value as { oldHead: { seq: number; hash: string }; verifiedBefore: boolean; entries: number };
  const fresh = await scratch.find({}).sort({ seq: 1 }).toArray();
  // The scratch copy is complete before the swap starts; one that is not means stop, not wipe.
  if (fresh.length !== info.entries)
    throw new AppError('MIGRATION.CHAIN_BROKEN', `${spec.name}: the re-chained copy holds ${fresh.length} of ${info.entries} entries`);
  await model.deleteMany({ seq: { $gt: (await chain.checkpoint()).seq } });
  if (fresh.length) await model.collection.insertMany(fresh as never[]);
  const last = fresh[fresh.length - 1];
  if (last) await Kv.updateOne({ _id: `${spec.name}.head` }, { $set: { value: { seq: last.seq, hash: last.hash }, at: deps.clock.now() } }, { upsert: true });
  chain.forgetHead();
  await Kv.updateOne({ _id: stateId }, { $set: { 'value.phase': 'done' } });
  await scratch.drop().catch(() => undefined);
  const content: Record<string, unknown> = Object.fromEntries(spec.fields.map((f) => [f, null]));
  Object.assign(
    content,
    spec.name === 'ledger'
      ? { requestId: `rechain:${info.oldHead.hash.slice(0, 16)}`, subscriberToken: '-', event: 'chain.rechained' }
      : { action: 'chain_rechained' },
  );
  content.detail = `old head #${info.oldHead.seq} ${info.oldHead.hash}; verified before: ${info.verifiedBefore}`;
  await chain.append(content, `rechain:${spec.name}:${info.oldHead.hash.slice(0, 24)}`);
  return { entries: info.entries, verifiedBefore: info.verifiedBefore };
}
