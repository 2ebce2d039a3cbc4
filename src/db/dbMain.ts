import path from 'node:path';
import { loadConfigOrExit } from '../config';
import { startEmbeddedDb } from './embedded';

/** `npm run db`: only the embedded server, in the foreground; prints MONGODB_URI=… once it accepts connections. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const db = await startEmbeddedDb({
    dir: config.embeddedDb.dir ?? path.join(config.dataDir, 'db'),
    port: config.embeddedDb.port,
    engine: config.embeddedDb.engine,
    dbName: 'privacybot',
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`MONGODB_URI=${db.uri}\n`);
  const stop = async () => {
    await db.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // Keep the process (and so the server's lifeline pipe) alive.
  setInterval(() => undefined, 1 << 30);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
