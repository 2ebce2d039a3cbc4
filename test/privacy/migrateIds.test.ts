import { createCipheriv, randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import request from 'supertest';
import { migrateIds } from '../../src/maintenance/migrateIds';
import { conversation } from '../../src/staff/conversations';
import { createChatHarness, type ChatHarness } from '../support/chat';
import { TEST_KEYS } from '../support/harness';
import { rawDump } from '../support/testDb';
import { envelope, messagesChange, signed, wamid } from '../support/whatsapp';
import { traceOf } from './traces';

/**
 * A database written by the previous version (Meta's message ids as document ids, request ids and
 * ledger keys; `e1.` values not bound to their place; Graph ids and Meta's error texts in the
 * clear; a reveal's reason as free text in the chained audit log) is turned by `migrate-ids` into
 * one that passes the outsider's scan, with both chains re-chained and still verifiable.
 */
let h: ChatHarness;
beforeEach(async () => {
  h = await createChatHarness('migrateids');
});
afterEach(() => h.close());

const KEY = Buffer.from(TEST_KEYS.PII_ENCRYPTION_KEYS.split(':')[1], 'base64');
/** How the previous version sealed a value: AES-256-GCM without additional data. */
function sealOld(plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', KEY, iv);
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return ['e1', 'k1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

const DANA = '15550004444';

async function oldDatabase() {
  const m = h.deps.models;
  const now = h.clock.now();
  const token = h.deps.pii.blindIndex(`wa:${DANA}`);
  const subscriberId = new Types.ObjectId();
  const [w1, w2, g1] = [wamid(DANA), wamid(DANA), wamid(DANA)];
  const item = { id: w1, from: DANA, timestamp: String(Math.floor(now.getTime() / 1000) - 60), type: 'text', text: { body: 'old secret text' } };
  await m.Subscriber.collection.insertOne({
    _id: subscriberId,
    key: token,
    waIdEnc: sealOld(DANA),
    nameEnc: sealOld('Dana Old'),
    consent: 'opted_out',
    consentAt: now,
    lastActivityAt: now,
    createdAt: now,
    hintRequestId: w1,
    pending: { kind: 'erasure', requestId: w2, expiresAt: new Date(now.getTime() + 600_000), sourceInboxId: w2 },
  } as never);
  await m.Inbox.collection.insertMany([
    {
      _id: w1,
      field: 'messages',
      type: 'text',
      subscriberKey: token,
      payloadEnc: sealOld(JSON.stringify({ field: 'messages', phoneNumberId: '200000000000002', item })),
      order: 1,
      receivedAt: now,
      state: 'done',
      attempts: 1,
      lastError: null,
    },
    {
      _id: `status:${g1}:delivered`,
      field: 'statuses',
      type: 'status:delivered',
      subscriberKey: token,
      payloadEnc: sealOld('{"field":"statuses","item":{}}'),
      order: 2,
      receivedAt: now,
      state: 'done',
      attempts: 1,
      lastError: `failed for ${DANA}`,
    },
  ] as never[]);
  await m.Message.collection.insertMany([
    { _id: w1, subscriberId, direction: 'in', kind: 'text', textEnc: sealOld('old secret text'), intent: 'opt_out', by: 'subscriber', status: null, at: now },
    {
      _id: `${w1}:0`,
      subscriberId,
      direction: 'out',
      kind: 'text',
      textEnc: sealOld('You are unsubscribed.'),
      intent: null,
      by: 'bot',
      status: 'failed',
      at: now,
    },
  ] as never[]);
  await m.Outbox.collection.insertOne({
    _id: `${w1}:0`,
    subscriberId,
    toEnc: sealOld(JSON.stringify({ phone: `+${DANA}` })),
    bodyEnc: sealOld(JSON.stringify({ type: 'text', text: { body: 'You are unsubscribed.' } })),
    category: 'rights',
    kind: 'text',
    state: 'failed',
    order: 1,
    attempts: 1,
    nextAttemptAt: now,
    graphId: g1,
    error: { code: 131026, title: `Message undeliverable to +${DANA}` },
    createdAt: now,
  } as never);
  await m.Request.collection.insertMany([
    {
      _id: w1,
      subscriberToken: token,
      type: 'opt_out',
      channel: 'chat',
      receivedAt: now,
      dueAt: now,
      regime: 'gdpr',
      state: 'done',
      doneAt: now,
      outcome: 'marketing consent withdrawn (keyword)',
    },
    {
      _id: w2,
      subscriberToken: token,
      type: 'erasure',
      channel: 'chat',
      receivedAt: now,
      dueAt: now,
      regime: 'gdpr',
      state: 'open',
      doneAt: null,
      outcome: null,
    },
  ] as never[]);
  await m.Consent.collection.insertOne({
    _id: `${w1}:withdraw`,
    subscriberId,
    action: 'withdraw',
    scope: 'marketing',
    source: 'keyword',
    detail: `asked from ${DANA}`,
    at: now,
  } as never);
  const exportId = `exp-${w2.replace(/[^A-Za-z0-9]/g, '').slice(-24)}`;
  await m.Export.collection.insertOne({
    _id: exportId,
    subscriberId,
    contentEnc: sealOld(JSON.stringify({ subject: { whatsappNumber: `+${DANA}` } })),
    createdAt: now,
    expiresAt: new Date(now.getTime() + 86_400_000),
  } as never);
  await m.ErasureJob.collection.insertOne({
    _id: w2,
    subscriberId,
    subscriberToken: token,
    toEnc: sealOld(JSON.stringify({ phone: `+${DANA}` })),
    locale: 'en',
    state: 'done',
    leaseUntil: null,
    startedAt: now,
  } as never);
  for (const [requestId, event, detail] of [
    [w1, 'opt_out.received', 'chat'],
    [w1, 'opt_out.done', 'marketing consent withdrawn (keyword)'],
    [w2, 'erasure.received', 'chat'],
    [w2, 'erasure.confirmed', w2],
  ]) {
    await h.deps.stores.ledger.chain.append({ requestId, subscriberToken: token, event, detail }, `${requestId}:${event}`);
  }
  await h.deps.stores.audit.chain.append(
    { staffId: null, action: 'reveal', subscriberToken: token, detail: `Dana called from ${DANA} about a refund` },
    'old-audit-1',
  );
  await h.deps.stores.audit.chain.append({ staffId: null, action: 'login', subscriberToken: null, detail: null }, 'old-audit-2');
  return { subscriberId, w1 };
}

it('migrate-ids turns an old database into one that passes the scan, with both chains verifiable', async () => {
  const { subscriberId, w1 } = await oldDatabase();
  const dump = async () => (await rawDump(h.db.conn)).map((d) => `${d.collection} ${d.json}`).join('\n');
  expect(traceOf(DANA, await dump())).not.toBeNull(); // the scan does see the old scheme

  const report = await migrateIds(h.deps);
  expect(report.rekeyed).toMatchObject({ inbox: 2, messages: 2, outbox: 1, requests: 2, consents: 1, erasureJobs: 1, exports: 1 });
  // The four old entries, and the erasure whose question could not be answered any more, closed.
  expect(report.rechained.ledger).toEqual({ entries: 5, verifiedBefore: true });
  expect(report.rechained.staffAudit).toEqual({ entries: 2, verifiedBefore: true });

  expect(traceOf(DANA, await dump())).toBeNull();
  expect(await h.deps.stores.ledger.verify()).toMatchObject({ ok: true, entries: 6 });
  expect(await h.deps.models.Request.findOne({ type: 'erasure' }).lean()).toMatchObject({ state: 'expired', outcome: 'question reset by an upgrade' });
  expect(await h.deps.stores.audit.verify()).toMatchObject({ ok: true, entries: 3 });
  // The re-chaining is documented: the old head is kept, and named by the new chain's entry.
  const record = (await h.deps.models.Kv.findById('ledger.rechain').lean())!.value as { oldHead: { hash: string }; verifiedBefore: boolean };
  const marker = await h.deps.models.Ledger.findOne({ event: 'chain.rechained' }).lean();
  expect(marker!.detail).toContain(record.oldHead.hash);
  expect(await h.deps.models.Ledger.findOne({ event: 'erasure.confirmed' }).lean()).toMatchObject({ detail: 'button' });
  // A reveal's free-text reason moved to the sealed note; the chain holds a code.
  const reveal = await h.deps.models.StaffAudit.findOne({ action: 'reveal' }).lean();
  expect(reveal).toMatchObject({ detail: 'other', noteEnc: expect.stringMatching(/^e2\./) });

  // Everything still reads, at its new place.
  const c = await conversation(h.deps, String(subscriberId));
  expect(c!.messages.map((x) => x.text)).toEqual(['old secret text', 'You are unsubscribed.']);
  expect(c!.name).toBe('Dana Old');
  expect(c!.consentHistory[0].detail).toBe(`asked from ${DANA}`);
  const out = await h.deps.models.Outbox.findOne({}).lean();
  expect(out).toMatchObject({
    graphKey: expect.stringMatching(/^g_/),
    phoneNumberId: '200000000000002',
    error: { code: 131026, title: 'message undeliverable' },
  });

  // A redelivery of the old message is still recognised as one.
  const { raw, signature } = signed(
    envelope(
      messagesChange({ waId: DANA }, [
        { id: w1, timestamp: String(Math.floor(h.clock.now().getTime() / 1000) - 60), type: 'text', text: { body: 'old secret text' } },
      ]),
    ),
  );
  const r = await request(h.app).post('/webhook').set('content-type', 'application/json').set('x-hub-signature-256', signature).send(raw).expect(200);
  expect(r.body).toEqual({ received: 1 });
  expect(await h.deps.models.Inbox.countDocuments({})).toBe(2);

  // A second run finds nothing left to do.
  const again = await migrateIds(h.deps);
  expect(Object.values(again.rekeyed).every((n) => n === 0)).toBe(true);
  expect(again.rechained.ledger.entries).toBe(0);
  expect(again.resealed).toBe(0);
  expect(await h.deps.stores.ledger.verify()).toMatchObject({ ok: true, entries: 6 });
});

it('requests from a Meta preference stop survive the migration, with no unkeyed content hash left', async () => {
  const m = h.deps.models;
  const now = h.clock.now();
  const token = h.deps.pii.blindIndex(`wa:${DANA}`);
  const prefId = 'pref:0123456789abcdef0123456789abcdef';
  await m.Request.collection.insertOne({
    _id: prefId,
    subscriberToken: token,
    type: 'opt_out',
    channel: 'meta',
    receivedAt: now,
    dueAt: now,
    regime: 'gdpr',
    state: 'done',
    doneAt: now,
    outcome: 'x',
  } as never);
  await m.Consent.collection.insertOne({
    _id: `${prefId}:withdraw`,
    subscriberId: new Types.ObjectId(),
    action: 'withdraw',
    scope: 'marketing',
    source: 'meta_preferences',
    detail: null,
    at: now,
  } as never);
  await h.deps.stores.ledger.chain.append(
    { requestId: prefId, subscriberToken: token, event: 'opt_out.received', detail: 'meta' },
    `${prefId}:opt_out.received`,
  );
  await migrateIds(h.deps);
  expect(await m.Request.countDocuments({})).toBe(1);
  expect(await m.Consent.countDocuments({})).toBe(1);
  const dump = (await rawDump(h.db.conn)).map((d) => d.json).join('\n');
  expect(dump).not.toContain('0123456789abcdef0123456789abcdef');
  expect(await h.deps.stores.ledger.verify()).toMatchObject({ ok: true });
});

it('a ledger that does not verify is not re-chained (that would hide the tampering) unless forced', async () => {
  await oldDatabase();
  await h.deps.models.Ledger.updateOne({ seq: 2 }, { $set: { detail: 'edited' } });
  await expect(migrateIds(h.deps)).rejects.toMatchObject({ code: 'MIGRATION.CHAIN_BROKEN' });
  expect(await h.deps.models.Ledger.countDocuments({})).toBe(4);
  const forced = await migrateIds(h.deps, undefined, { force: true });
  expect(forced.rechained.ledger).toEqual({ entries: 5, verifiedBefore: false });
  expect((await h.deps.models.Kv.findById('ledger.rechain').lean())!.value).toMatchObject({ verifiedBefore: false, firstBroken: { seq: 2 } });
});

it('a swap interrupted after its copy was lost stops instead of wiping the ledger', async () => {
  await oldDatabase();
  await migrateIds(h.deps);
  const before = await h.deps.models.Ledger.countDocuments({});
  // As if a crash came between the swap and marking it done, and the copy was gone.
  await h.deps.models.Kv.updateOne({ _id: 'ledger.rechain' }, { $set: { 'value.phase': 'swap' } });
  await expect(migrateIds(h.deps)).rejects.toMatchObject({ code: 'MIGRATION.CHAIN_BROKEN' });
  expect(await h.deps.models.Ledger.countDocuments({})).toBe(before);
});
