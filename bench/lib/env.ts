import { testEnv } from '../../test/support/env';

/**
 * The environment the measured app gets: the tests' (test/support/env.ts: fake credentials and
 * keys, nothing leaves loopback) run as a production deployment (every secret set, so not sandbox
 * mode), pointed at a bench database and, when given, at the fake Graph API on loopback.
 */
export function appEnv(o: { mongodbUri: string; graphBaseUrl?: string; sendRate?: number; logLevel?: string }): Record<string, string> {
  return testEnv({
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    MONGODB_URI: o.mongodbUri,
    LOG_LEVEL: o.logLevel ?? 'info',
    METRICS_TOKEN: 'bench-metrics-token',
    GRAPH_API_BASE_URL: o.graphBaseUrl,
    SEND_RATE_PER_SECOND: o.sendRate ? String(o.sendRate) : undefined,
  });
}
