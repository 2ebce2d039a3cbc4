import { EventEmitter } from 'node:events';
import type { Connection } from 'mongoose';
import type { Config } from './config';
import type { Deps } from './deps';
import { createTranslator, LOCALES_DIR } from './i18n/i18n';
import { checkLanguagesInUse, readLocaleOverrides } from './i18n/localeOverrides';
import { systemClock, type Clock } from './lib/clock';
import type { Logger } from './lib/logger';
import { createMetrics } from './lib/metrics';
import { createHandOver } from './lib/handOver';
import { loadKeys } from './privacy/loadKeys';
import { createPii } from './privacy/pii';
import { createRightsContext } from './rightsContext';
import { createModels, ensureIndexes } from './store/models';
import { createStores } from './store/stores';
import { upgradeSchema } from './maintenance/upgradeSchema';

export interface WiringInput {
  config: Config;
  log: Logger;
  /** An open connection; its owner closes it (buildDeps only creates collections and indexes). */
  conn: Connection;
  clock?: Clock;
}

/**
 * The one place the dependencies are assembled, on an open connection. The process (runtime.ts),
 * the test harness, the fault suite's inspector and the benchmarks all call it, so what the tests
 * and the figures run is what production runs, and a new dependency is added here only.
 */
export async function buildDeps({ config, log, conn, clock = systemClock }: WiringInput): Promise<Deps> {
  const models = createModels(conn);
  await ensureIndexes(models);
  const pii = createPii(loadKeys(config));
  const stores = createStores(models, pii, clock);
  await upgradeSchema(stores);
  // Checked again at start (main.ts checks first, to stop with the file's name before any database work).
  const localeOverrides = readLocaleOverrides(config.localesOverrideDir);
  checkLanguagesInUse(localeOverrides, config);
  const deps = {
    config,
    localeOverrides,
    log,
    conn,
    models,
    stores,
    pii,
    metrics: createMetrics(),
    clock,
    i18n: createTranslator(LOCALES_DIR, localeOverrides.texts, config.defaultLocale),
    bus: new EventEmitter().setMaxListeners(1000),
    handOver: createHandOver(),
  } satisfies Omit<Deps, 'rights'>;
  // Added to the same object: the rights context's ports (the outbox, security signals) hold it.
  return Object.assign(deps, { rights: createRightsContext(deps) });
}
