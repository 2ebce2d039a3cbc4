/**
 * BUG 5 (performance): on the embedded FerretDB every claim, head-of-queue check and "next outbox
 * position" query reads the whole collection, so processing slows down in proportion to what the
 * inbox and outbox hold (done and sent items included; the inbox keeps 7 days by default).
 * Same 150 messages, processed on an empty database and then beside 1,500 finished items.
 *
 *   npx jest -c jest.faults.config.js --testMatch '<rootDir>/test/faults/repro/*.repro.ts'
 */
import { Types } from 'mongoose';
import request from 'supertest';
import { createChatHarness, type ChatHarness } from '../../support/chat';
import { envelope, messagesChange, signed, textMessage } from '../../support/whatsapp';

jest.setTimeout(10 * 60_000);

describe('BUG 5: processing throughput falls as the collections grow', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await createChatHarness('reprothroughput', { env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(() => h.close());

  async function batch(tag: string): Promise<number> {
    const base = Math.floor(h.clock.now().getTime() / 1000) - 600;
    for (let i = 0; i < 150; i++) {
      const waId = `15559995${String(i % 30).padStart(3, '0')}`;
      const { raw, signature } = signed(envelope(messagesChange({ waId }, [textMessage(['STOP', 'START', 'HELP', 'STATUS'][i % 4], { id: `${tag}-${i}`, timestamp: base + i })])));
      await request(h.app).post('/webhook').set('content-type', 'application/json').set('x-hub-signature-256', signature).send(raw).expect(200);
    }
    const t = Date.now();
    await h.workers.drain();
    expect(await h.deps.models.Inbox.countDocuments({ _id: new RegExp(`^${tag}-`), state: 'done' })).toBe(150);
    return 150 / ((Date.now() - t) / 1000);
  }

  it('processes as many items a second beside 1,500 finished ones as on an empty database (within 2x)', async () => {
    const empty = await batch('empty');
    const now = h.clock.now();
    const sid = new Types.ObjectId();
    await h.deps.models.Inbox.collection.insertMany(
      Array.from({ length: 1500 }, (_, i) => ({
        _id: `old-${i}` as never,
        field: 'messages',
        type: 'text',
        subscriberKey: `old${i % 50}`,
        payloadEnc: h.deps.pii.encrypt(JSON.stringify({ field: 'messages', item: { id: `old-${i}`, type: 'text', text: { body: 'HELP' } } })),
        order: now.getTime() - 86_400_000 + i,
        receivedAt: now,
        state: 'done',
        leaseUntil: null,
        attempts: 1,
        lastError: null,
        processedAt: now,
      })),
    );
    await h.deps.models.Outbox.collection.insertMany(
      Array.from({ length: 1500 }, (_, i) => ({
        _id: `old-${i}:0` as never,
        subscriberId: sid,
        toEnc: h.deps.pii.encrypt('{"phone":"+15550000000"}'),
        bodyEnc: h.deps.pii.encrypt('{"type":"text","text":{"body":"x"}}'),
        category: 'rights',
        kind: 'text',
        state: 'sent',
        order: i,
        attempts: 1,
        nextAttemptAt: now,
        leaseUntil: null,
        graphId: `g${i}`,
        error: null,
        createdAt: now,
        sentAt: now,
        purgeAfterSend: false,
      })),
    );
    const full = await batch('full');
    console.log(`items/s: empty database ${empty.toFixed(1)}; beside 1,500 finished inbox and outbox items ${full.toFixed(1)}`);
    expect(full).toBeGreaterThan(empty / 2);
  });
});
