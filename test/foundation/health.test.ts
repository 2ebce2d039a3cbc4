import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { freePort, startEmbeddedDb, type EmbeddedDb } from '../../src/db/embedded';
import { createHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/proc';

jest.setTimeout(120_000);

describe('GET /healthz and /readyz', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('health');
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers 200 while the process runs and the database answers', async () => {
    await request(h.app).get('/healthz').expect(200, { status: 'ok' });
    await request(h.app).get('/readyz').expect(200, { status: 'ready' });
  });

  it('serves Prometheus metrics', async () => {
    const r = await request(h.app).get('/metrics').expect(200);
    expect(r.headers['content-type']).toMatch(/text\/plain/);
    expect(r.text).toContain('webhook_deliveries_total');
  });
});

describe('GET /readyz with the database stopped', () => {
  let db: EmbeddedDb;
  let dir: string;
  afterAll(async () => {
    await db?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503, then 200 again when the database returns, without a restart', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'privacybot-ready-'));
    const port = await freePort();
    db = await startEmbeddedDb({ dir, port, dbName: 'test' });
    const h = await createHarness('ready', { baseUri: db.uri });
    const app = h.app;
    await request(app).get('/readyz').expect(200);

    await db.stop();
    await request(app).get('/readyz').expect(503);
    await request(app).get('/healthz').expect(200);

    db = await startEmbeddedDb({ dir, port, dbName: 'test' });
    await waitFor(async () => (await request(app).get('/readyz')).status === 200, 30_000, 250);
    await h.close();
  });
});
