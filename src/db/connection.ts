import mongoose, { type Connection } from 'mongoose';
import { AppError } from '../lib/errors';

/**
 * One mongoose connection per app instance (tests run several apps on several databases).
 * No transactions anywhere: FerretDB has none, and every step is idempotent instead.
 */
export async function connectDb(uri: string, opts: { serverSelectionTimeoutMS?: number } = {}): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? 10_000,
    autoIndex: false,
    autoCreate: false,
    maxPoolSize: 20,
  });
  try {
    await conn.asPromise();
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw new AppError('DB.UNAVAILABLE', `cannot reach the database: ${(err as Error).message}`, { cause: err });
  }
  return conn;
}

/** True while the database answers a ping within the timeout. */
export async function pingDb(conn: Connection, timeoutMs = 1500): Promise<boolean> {
  try {
    const db = conn.db;
    if (!db) return false;
    await Promise.race([db.admin().command({ ping: 1 }), new Promise((_, reject) => setTimeout(() => reject(new Error('ping timeout')), timeoutMs).unref())]);
    return true;
  } catch {
    return false;
  }
}

/** Database names used by tests must say so; helpers refuse anything else. */
export function assertTestDbName(name: string): void {
  if (!/test/i.test(name)) throw new Error(`refusing to use database "${name}": test databases must contain "test"`);
}
