import { randomBytes } from 'node:crypto';

/** Credentials of the benchmark's pretend WhatsApp app; nothing real, nothing leaves loopback. */
export const BENCH_APP_SECRET = 'bench_app_secret_not_real';
export const BENCH_VERIFY_TOKEN = 'bench-verify-token';
export const BENCH_ACCESS_TOKEN = 'bench-graph-token';
export const BENCH_PHONE_NUMBER_ID = '300000000000003';

/** PII keys for one benchmark run (fresh each run; the databases are fresh too). */
export function benchKeys(): { PII_ENCRYPTION_KEYS: string; PII_HMAC_KEY: string } {
  return {
    PII_ENCRYPTION_KEYS: `bench1:${randomBytes(32).toString('base64')}`,
    PII_HMAC_KEY: randomBytes(32).toString('base64'),
  };
}

/**
 * The environment the measured app gets: what a production deployment sets (every secret, so not
 * sandbox mode), pointed at a bench database and, when given, at the fake Graph API on loopback.
 */
export function appEnv(o: { mongodbUri: string; keys: Record<string, string>; graphBaseUrl?: string; sendRate?: number; logLevel?: string }): Record<string, string> {
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    MONGODB_URI: o.mongodbUri,
    WHATSAPP_APP_SECRET: BENCH_APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: BENCH_VERIFY_TOKEN,
    WHATSAPP_ACCESS_TOKEN: BENCH_ACCESS_TOKEN,
    WHATSAPP_PHONE_NUMBER_ID: BENCH_PHONE_NUMBER_ID,
    BUSINESS_NAME: 'Bench Shop',
    SUPPORT_CONTACT: 'help@bench.invalid',
    PRIVACY_POLICY_URL: 'https://bench.invalid/privacy',
    LOG_LEVEL: o.logLevel ?? 'info',
    METRICS_TOKEN: 'bench-metrics-token',
    ...o.keys,
  };
  if (o.graphBaseUrl) env.GRAPH_API_BASE_URL = o.graphBaseUrl;
  if (o.sendRate) env.SEND_RATE_PER_SECOND = String(o.sendRate);
  return env;
}
