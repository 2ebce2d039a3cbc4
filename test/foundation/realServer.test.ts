import mongoose from 'mongoose';
import { openTestDb, serverUri, type TestDb } from '../support/testDb';
import { assertTestDbName } from '../../src/db/connection';

describe('the test database', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb('realserver');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('is a real server over TCP that answers hello and buildInfo', async () => {
    const url = new URL(serverUri());
    expect(url.protocol).toBe('mongodb:');
    const admin = db.conn.db!.admin();
    const hello = await admin.command({ hello: 1 });
    expect(hello.ok).toBe(1);
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(9);
    const info = await admin.command({ buildInfo: 1 });
    expect(info.version).toMatch(/^\d+\.\d+/);
  });

  it('rejects a duplicate insert through a unique index', async () => {
    const coll = db.conn.db!.collection('uniq_probe');
    await coll.createIndex({ k: 1 }, { unique: true });
    await coll.insertOne({ k: 'a' });
    await expect(coll.insertOne({ k: 'a' })).rejects.toMatchObject({ code: 11000 });
    expect(await coll.countDocuments({ k: 'a' })).toBe(1);
  });

  it('refuses database names that do not say "test"', () => {
    expect(() => assertTestDbName('privacybot')).toThrow(/refusing/);
    expect(() => assertTestDbName('test_x')).not.toThrow();
  });

  it('gives each test file its own database', async () => {
    const other = await openTestDb('realserver');
    try {
      expect(other.conn.db!.databaseName).not.toBe(db.conn.db!.databaseName);
      expect(mongoose.connections.length).toBeGreaterThan(0);
    } finally {
      await other.drop();
    }
  });
});
