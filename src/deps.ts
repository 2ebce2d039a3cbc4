import type { EventEmitter } from 'node:events';
import type { Connection } from 'mongoose';
import type { Config } from './config';
import type { Models } from './store/models';
import type { Stores } from './store/stores';
import type { RightsContext } from './rights/context';
import type { Clock } from './lib/clock';
import type { Logger } from './lib/logger';
import type { Metrics } from './lib/metrics';
import type { Translator } from './i18n/i18n';
import type { Pii } from './privacy/pii';
import type { HandOver } from './lib/handOver';
import type { LocaleOverrides } from './i18n/localeOverrides';

/** What the app and the workers are built from; tests build the same thing against a test database. */
export interface Deps {
  config: Config;
  log: Logger;
  conn: Connection;
  /** The collections, for maintenance that spans all of them (key rotation, id migration); everything else uses `stores`. */
  models: Models;
  /** One owner per collection (store/). */
  stores: Stores;
  /** What the use cases receive (rightsContext.ts). */
  rights: RightsContext;
  pii: Pii;
  metrics: Metrics;
  clock: Clock;
  i18n: Translator;
  /**
   * In-process notifications: 'inbox' (a delivery was stored), 'outbox' (a message was queued), 'events' (a privacy event was queued),
   * 'conversation' (a subscriber's thread changed; the staff console's live view listens).
   */
  bus: EventEmitter;
  /** The deployer's keywords and reply texts, checked at start-up (i18n/localeOverrides.ts). */
  localeOverrides: LocaleOverrides;
  /** Which queue workers of this process take what it writes straight into hand (lib/handOver.ts). */
  handOver: HandOver;
}
