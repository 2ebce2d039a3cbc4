import { Schema } from 'mongoose';
import { insertOnce } from '../../src/store/insertOnce';
import { openTestDb, type TestDb } from '../support/testDb';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb('insertonce');
});
afterAll(async () => {
  await db.drop();
});

const model = () => db.conn.models.Thing ?? db.conn.model('Thing', new Schema({ _id: String, n: Number }, { versionKey: false, collection: 'things' }));

describe('insertOnce (group commit per collection)', () => {
  it('tells each of many concurrent callers about its own document: true when written, false for a duplicate', async () => {
    const m = model();
    await m.collection.insertOne({ _id: 'already' as never, n: 0 });
    const ids = [...Array.from({ length: 30 }, (_, i) => `c${i}`), 'already', 'c3', 'c7'];
    const results = await Promise.all(ids.map((id, i) => insertOnce(m, { _id: id, n: i })));
    expect(results).toEqual([...Array.from({ length: 30 }, () => true), false, false, false]);
    expect(await m.countDocuments({ _id: /^c/ })).toBe(30);
    // The first writer of a duplicated id is the one stored.
    expect(await m.findById('c3').lean()).toMatchObject({ n: 3 });
  });

  it('never strands an insert queued the moment the previous one resolved (a caller writing step after step)', async () => {
    const m = model();
    const chain = async (prefix: string) => {
      for (let i = 0; i < 20; i++) expect(await insertOnce(m, { _id: `${prefix}${i}`, n: i })).toBe(true);
    };
    // Several callers interleaving: each starts its next insert as soon as the last one resolved.
    const all = Promise.all(['s', 't', 'u', 'v'].map(chain));
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('an insert was never written')), 15_000));
    await Promise.race([all, timeout]);
    expect(await m.countDocuments({ _id: /^[stuv]\d/ })).toBe(80);
  });

  it('passes on an error that is not a duplicate to the caller whose document caused it, and keeps going', async () => {
    const m = model();
    // One insert in flight, so the next three go together; the middle one has an _id every server refuses (an array).
    const first = insertOnce(m, { _id: 'g0', n: 0 });
    const good = [insertOnce(m, { _id: 'g1', n: 1 }), insertOnce(m, { _id: 'g2', n: 2 })];
    const bad = insertOnce(m, { _id: ['not', 'an', 'id'] as never, n: 9 });
    expect(await first).toBe(true);
    await expect(bad).rejects.toBeTruthy();
    await expect(Promise.all(good)).resolves.toEqual([true, true]);
    expect(await insertOnce(m, { _id: 'g3', n: 3 })).toBe(true);
  });
});
