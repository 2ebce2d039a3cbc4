import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { freePort, startEmbeddedDb, type EmbeddedDb } from '../../src/db/embedded';
import { createInboxWorker } from '../../src/inbox/worker';
import { messageKey } from '../../src/privacy/ids';
import { createHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/proc';
import { signedText, wamid } from '../support/whatsapp';

jest.setTimeout(120_000);

describe('POST /webhook with the database stopped', () => {
  let db: EmbeddedDb;
  let dir: string;
  let h: Harness;
  afterAll(async () => {
    await h?.close().catch(() => undefined);
    await db?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 (never 200), and processing resumes by itself when the database returns', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'privacybot-outage-'));
    const port = await freePort();
    db = await startEmbeddedDb({ dir, port, dbName: 'test' });
    h = await createHarness('outage', { baseUri: db.uri });
    const processed: string[] = [];
    const worker = createInboxWorker(
      h.deps,
      async (item) => {
        processed.push(item.id);
      },
      { idleMs: 100 },
    );
    worker.start();

    // Meta-like ids; the inbox (and so the worker) knows each only by our keyed id of it.
    const beforeWamid = wamid('15550007001');
    const duringWamid = wamid('15550007001');
    const beforeId = messageKey(h.deps.pii, beforeWamid);
    const duringId = messageKey(h.deps.pii, duringWamid);
    expect(beforeId).not.toBe(duringId);
    const before = signedText('15550007001', 'before', { id: beforeWamid });
    await request(h.app).post('/webhook').set('x-hub-signature-256', before.signature).set('content-type', 'application/json').send(before.raw).expect(200);
    await waitFor(() => processed.includes(beforeId));

    await db.stop();
    const during = signedText('15550007001', 'during', { id: duringWamid });
    for (let i = 0; i < 3; i++) {
      const r = await request(h.app).post('/webhook').set('x-hub-signature-256', during.signature).set('content-type', 'application/json').send(during.raw);
      expect(r.status).toBe(503);
    }

    db = await startEmbeddedDb({ dir, port, dbName: 'test' });
    // Meta retries the same delivery; once stored it is processed without restarting anything.
    await waitFor(
      async () => {
        const r = await request(h.app).post('/webhook').set('x-hub-signature-256', during.signature).set('content-type', 'application/json').send(during.raw);
        return r.status === 200;
      },
      30_000,
      250,
    );
    await waitFor(() => processed.includes(duringId), 15_000);
    await worker.stop();
    expect(processed.filter((id) => id === duringId)).toHaveLength(1);
    expect(processed.filter((id) => id === beforeId)).toHaveLength(1);
  });
});
