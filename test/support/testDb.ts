import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { assertTestDbName, connectDb } from '../../src/db/connection';
import { at, type Pii } from '../../src/privacy/pii';

/** The server started by globalSetup (or the one MONGODB_URI names). */
export function serverUri(): string {
  const uri = process.env.TEST_MONGODB_URI;
  if (!uri) throw new Error('TEST_MONGODB_URI is not set: run the tests through jest (globalSetup)');
  return uri;
}

/** A URI for a fresh database of this test file; the name always contains "test". */
export function testDbUri(label: string, baseUri = serverUri()): string {
  const name = `test_${label.replace(/[^a-zA-Z0-9]/g, '').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  assertTestDbName(name);
  const u = new URL(baseUri);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A connection to a fresh database; the collections come with the dependencies (src/wiring.ts). */
export interface TestDb {
  uri: string;
  conn: Connection;
  drop(): Promise<void>;
}

export async function openTestDb(label: string, baseUri?: string): Promise<TestDb> {
  const uri = testDbUri(label, baseUri);
  const conn = await connectDb(uri);
  assertTestDbName(conn.db?.databaseName ?? '');
  return {
    uri,
    conn,
    async drop() {
      await conn.dropDatabase().catch(() => undefined);
      await conn.close();
    },
  };
}

/** Every document of every collection, read raw (bypassing mongoose), for leak scans. */
export async function rawDump(conn: Connection): Promise<{ collection: string; json: string }[]> {
  const out: { collection: string; json: string }[] = [];
  const db = conn.db!;
  for (const c of await db.listCollections().toArray()) {
    for (const doc of await db.collection(c.name).find({}).toArray()) out.push({ collection: c.name, json: JSON.stringify(doc) });
  }
  return out;
}

/**
 * Every sealed value of a dump, opened at its own place (collection, field, document id): what the
 * database holds once the keys are applied. Sealed values nested in sub-documents are opened too.
 */
export function openedValues(pii: Pii, dump: { collection: string; json: string }[]): string[] {
  const out: string[] = [];
  for (const { collection, json } of dump) {
    const doc = JSON.parse(json) as Record<string, unknown>;
    for (const [field, v] of Object.entries(doc)) {
      if (typeof v === 'string' && /^e[12]\./.test(v)) out.push(pii.decrypt(v, at(collection, field, doc._id)));
    }
  }
  return out;
}
