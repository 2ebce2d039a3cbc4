import type { Server } from 'node:http';
import { createApp } from './app';
import { loadConfigOrExit } from './config';
import { AppError } from './lib/errors';
import { createLogger } from './lib/logger';
import { describeUri, openRuntime } from './runtime';
import { startWorkers } from './workers';

/** The process entry: config → database → app → listen → workers; graceful stop on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.logLevel);
  let runtime;
  try {
    runtime = await openRuntime(config, log);
  } catch (err) {
    const where = config.mongodbUri ? describeUri(config.mongodbUri) : 'the embedded server';
    const reason = err instanceof AppError ? err.message : String(err);
    process.stderr.write(`cannot start: database at ${where} unavailable: ${reason.split('\n')[0]}\n`);
    log.fatal({ code: (err as AppError).code }, 'start-up failed');
    process.exit(1);
  }
  const { deps } = runtime;
  const app = createApp(deps);
  const workers = config.workers ? startWorkers(deps) : undefined;
  const server: Server = app.listen(config.port, config.host, () => {
    log.info(
      { port: config.port, host: config.host, sandbox: config.sandbox, embeddedDb: Boolean(runtime.embedded) },
      config.sandbox ? `listening; sandbox mode: open http://localhost:${config.port}/sandbox` : 'listening',
    );
  });
  server.keepAliveTimeout = 5000;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const hardExit = setTimeout(() => {
      log.error('graceful stop took longer than 9 s; exiting');
      process.exit(1);
    }, 9000);
    hardExit.unref();
    // Stop taking new requests, let in-flight ones finish, then release leases and close the database.
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await workers?.stop();
    await runtime.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
}

void main();
