import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { Client } from 'pg';
import { startEmbeddedDb, type EmbeddedDb } from '../../src/db/embedded';
import { mirroredIndexes } from '../../src/db/postgresIndexes';

/** The PostgreSQL plan of a find, as FerretDB's explain reports it. */
async function planOf(client: MongoClient, filter: Record<string, unknown>): Promise<string> {
  const r = await client.db('idx').command({ explain: { find: 'people', filter } });
  return JSON.stringify(r.queryPlanner);
}

describe('the embedded FerretDB on PostgreSQL', () => {
  let dir: string;
  let db: EmbeddedDb | undefined;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'privacybot-idx-'));
  });
  afterAll(async () => {
    await db?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves lookups by _id and by a declared index from an index, not a scan of the collection, also in a data folder made before', async () => {
    db = await startEmbeddedDb({ dir, dbName: 'idx', engine: 'postgresql', durable: false });
    expect(db.postgresUrl).toBeTruthy();
    let client = await new MongoClient(db.uri).connect();
    const people = client.db('idx').collection<{ _id: string; key: string; n: number }>('people');
    await people.createIndex({ key: 1, n: 1 });
    await people.insertMany(Array.from({ length: 3000 }, (_, i) => ({ _id: `p${i}`, key: `k${i % 300}`, n: i })));

    for (const filter of [{ _id: 'p1234' }, { key: 'k7' }]) {
      const plan = await planOf(client, filter);
      expect(plan).toMatch(/Index Scan/);
      expect(plan).not.toMatch(/Seq Scan/);
    }
    expect(await people.countDocuments({ key: 'k7' })).toBe(10);
    expect(await people.findOne({ _id: 'p1234' })).toMatchObject({ key: 'k34', n: 1234 });
    // FerretDB's own list is unchanged: the mirrors are PostgreSQL's business.
    expect((await people.listIndexes().toArray()).map((i) => i.name).sort()).toEqual(['_id_', 'key_1_n_1']);
    const mirrors = (await mirroredIndexes(db.postgresUrl!)).filter((m) => m.table.includes('people'));
    expect(mirrors.map((m) => m.def)).toEqual(
      expect.arrayContaining([expect.stringContaining("(_jsonb -> '_id'::text)"), expect.stringContaining("(_jsonb -> 'key'::text)")]),
    );
    await client.close();

    // A folder from before the mirrors existed: without them (and without the trigger), the next start adds them.
    const pg = new Client({ connectionString: db.postgresUrl });
    await pg.connect();
    await pg.query('DROP EVENT TRIGGER privacybot_gin');
    for (const m of mirrors) await pg.query(`DROP INDEX ${m.table.split('.')[0]}."${m.index}"`);
    await pg.end();
    await db.stop();
    db = await startEmbeddedDb({ dir, dbName: 'idx', engine: 'postgresql', durable: false });
    client = await new MongoClient(db.uri).connect();
    expect(await planOf(client, { key: 'k7' })).toMatch(/Index Scan/);
    expect((await mirroredIndexes(db.postgresUrl!)).filter((m) => m.table.includes('people'))).toHaveLength(mirrors.length);
    await client.close();
  });
});
