import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { freePort } from '../../src/db/embedded';
import { httpStatus, processesMatching, runNode, waitFor } from '../support/proc';
import { TEST_KEYS } from '../support/harness';

jest.setTimeout(120_000);

describe('the service process (dist/main.js)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'privacybot-proc-'));
  });
  afterEach(() => {
    for (const pid of processesMatching(dir)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('with PORT=abc prints one line naming PORT and exits 1', async () => {
    const p = runNode('dist/main.js', { PORT: 'abc' });
    const { code } = await p.exited;
    expect(code).toBe(1);
    const lines = p.err().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/PORT: a TCP port number/);
  });

  it('with an unreachable MONGODB_URI fails within 15 s with one clear message', async () => {
    const started = Date.now();
    const p = runNode('dist/main.js', { MONGODB_URI: 'mongodb://127.0.0.1:1/bot', DATA_DIR: dir, ...TEST_KEYS, LOG_LEVEL: 'silent' });
    const { code, at } = await p.exited;
    expect(code).toBe(1);
    expect(at - started).toBeLessThan(15_000);
    expect(p.err().trim().split('\n')).toEqual([expect.stringMatching(/^cannot start: database at 127\.0\.0\.1:1 unavailable/)]);
  });

  it('starts on the embedded database, is healthy and ready, stops on SIGTERM within 10 s and leaves no server behind', async () => {
    const port = await freePort();
    const p = runNode('dist/main.js', { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'warn' });
    await waitFor(async () => (await httpStatus(`http://127.0.0.1:${port}/readyz`)) === 200, 60_000);
    expect(await httpStatus(`http://127.0.0.1:${port}/healthz`)).toBe(200);
    expect(processesMatching(dir).length).toBeGreaterThan(0);

    const t0 = Date.now();
    p.child.kill('SIGTERM');
    const { code, at } = await p.exited;
    expect(code).toBe(0);
    expect(at - t0).toBeLessThan(10_000);
    await waitFor(() => processesMatching(path.join(dir, 'db')).length === 0, 5000);
  });

  it('after kill -9 leaves no server behind, and the next start on the same data works', async () => {
    const port = await freePort();
    const env = { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'warn' };
    const first = runNode('dist/main.js', env);
    await waitFor(async () => (await httpStatus(`http://127.0.0.1:${port}/readyz`)) === 200, 60_000);
    first.child.kill('SIGKILL');
    await first.exited;
    await waitFor(() => processesMatching(path.join(dir, 'db')).length === 0, 10_000);

    const second = runNode('dist/main.js', env);
    await waitFor(async () => (await httpStatus(`http://127.0.0.1:${port}/readyz`)) === 200, 60_000);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });
});

describe('the embedded database without Go (the mongodb-memory-server fallback)', () => {
  it('tries a real mongod, and where it cannot be had exits 1 naming the ways out', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'privacybot-mms-'));
    // The download is pointed at a closed port on loopback: the fallback runs for real but never leaves the machine.
    const p = runNode('dist/db/dbMain.js', {
      EMBEDDED_DB_ENGINE: 'mongodb-memory-server',
      EMBEDDED_DB_DIR: dir,
      MONGOMS_DOWNLOAD_URL: 'http://127.0.0.1:9/mongodb.tgz',
    });
    try {
      const { code } = await p.exited;
      expect(code).toBe(1);
      expect(p.out()).not.toContain('MONGODB_URI=');
      expect(p.err()).toMatch(/mongodb-memory-server failed .*Ways out: set MONGODB_URI .*install Go .*docker compose up/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run db (dist/db/dbMain.js)', () => {
  it('prints MONGODB_URI on the chosen port, accepts a client, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'privacybot-dbmain-'));
    const port = await freePort();
    const p = runNode('dist/db/dbMain.js', { EMBEDDED_DB_PORT: String(port), EMBEDDED_DB_DIR: dir });
    try {
      const line = await waitFor(
        () =>
          p
            .out()
            .split('\n')
            .find((l) => l.startsWith('MONGODB_URI=')),
        60_000,
      );
      expect(line).toBe(`MONGODB_URI=mongodb://127.0.0.1:${port}/privacybot`);
      const client = await new mongoose.mongo.MongoClient(line.slice('MONGODB_URI='.length)).connect();
      await client.db().collection('probe').insertOne({ ok: 1 });
      expect(await client.db().collection('probe').countDocuments()).toBe(1);
      await client.close();
      p.child.kill('SIGTERM');
      expect((await p.exited).code).toBe(0);
      await waitFor(() => processesMatching(dir).length === 0, 5000);
    } finally {
      p.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
