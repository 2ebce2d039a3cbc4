import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const db = globalThis.__EMBEDDED_DB__;
  if (db) {
    await db.stop();
    rmSync(db.dir, { recursive: true, force: true });
  }
}
