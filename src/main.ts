import type { Server } from 'node:http';
import { createApp } from './app';
import { loadConfigOrExit } from './config';
import { AppError } from './lib/errors';
import { createLogger, stdoutDestination } from './lib/logger';
import { describeUri, openRuntime } from './runtime';
import { loadKeywordPacks } from './chat/keywordPacks';
import { checkLanguagesInUse, readLocaleOverrides } from './i18n/localeOverrides';
import { startWorkers } from './workers';

/** The process entry: config → database → app → listen → workers; graceful stop on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // Logging never blocks (a stalled log shipper must not stop the service): lines the reader of
  // stdout cannot take in time are dropped, counted in /metrics and reported once it catches up.
  const out = stdoutDestination();
  const log = createLogger(config.logLevel, out);
  out.onCaughtUp((lines) => log.warn({ lines }, 'log lines dropped: stdout was not read in time'));
  // The deployer's own words are checked before anything else: a broken file stops the start,
  // naming the file and the key (i18n/localeOverrides.ts, chat/readKeywordPack.ts).
  try {
    const overrides = readLocaleOverrides(config.localesOverrideDir);
    loadKeywordPacks(undefined, overrides);
    checkLanguagesInUse(overrides, config);
  } catch (err) {
    process.stderr.write(`cannot start: ${(err as Error).message}\n`);
    log.fatal({ code: 'CONFIG.LOCALE_OVERRIDE' }, 'start-up failed');
    await out.flush(1000);
    process.exit(1);
  }
  let runtime;
  try {
    runtime = await openRuntime(config, log);
  } catch (err) {
    const where = config.mongodbUri ? describeUri(config.mongodbUri) : 'the embedded server';
    const reason = err instanceof AppError ? err.message : String(err);
    process.stderr.write(`cannot start: database at ${where} unavailable: ${reason.split('\n')[0]}\n`);
    log.fatal({ code: (err as AppError).code }, 'start-up failed');
    await out.flush(1000);
    process.exit(1);
  }
  const { deps } = runtime;
  deps.metrics.logLinesDropped.inc(out.dropped); // those of the start-up
  out.onDrop(() => deps.metrics.logLinesDropped.inc());
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
    // Armed before anything that could wait, logging included. Unref'd: it fires while anything
    // (a socket, a database call, a queued stdout write) keeps the process alive; with nothing
    // left, the process ends by itself.
    const hardExit = setTimeout(() => {
      try {
        log.error('graceful stop took longer than 9 s; exiting');
      } finally {
        process.exit(1);
      }
    }, 9000);
    hardExit.unref();
    log.info({ signal }, 'stopping');
    // Stop taking new requests, let in-flight ones finish, then release leases and close the database.
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await workers?.stop();
    await runtime.close();
    log.info('stopped');
    // The last lines get a moment to reach a reader, never a wait on one that is not reading.
    await out.flush(1000);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    void out.flush(500).finally(() => process.exit(1));
  });
}

void main();
