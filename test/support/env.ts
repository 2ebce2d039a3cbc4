/**
 * The app environment (what `loadConfig` reads) that the tests, the fault suite (test/faults/) and
 * the benchmarks (bench/) start from: a configured WhatsApp app, so not sandbox mode, with fixed
 * fake credentials and keys. Nothing here is real and nothing leaves loopback. The bench compiles
 * this file too (tsconfig.bench.json), so it imports nothing but Node.
 */
export const TEST_APP_SECRET = 'test_app_secret_not_real';
export const TEST_VERIFY_TOKEN = 'verify-token-for-tests';
export const TEST_ACCESS_TOKEN = 'graph-token-for-tests';
export const TEST_API_TOKEN = 'integration-token-for-tests-0123456789';
export const TEST_PHONE_NUMBER_ID = '200000000000002';
export const TEST_KEYS = {
  PII_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  PII_HMAC_KEY: Buffer.alloc(32, 9).toString('base64'),
};

/**
 * The test environment plus the caller's own keys (MONGODB_URI, PORT, GRAPH_API_BASE_URL, …). An
 * override set to `undefined` removes the key, so the result can be a child process's whole
 * environment.
 */
export function testEnv(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    WHATSAPP_APP_SECRET: TEST_APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: TEST_VERIFY_TOKEN,
    WHATSAPP_ACCESS_TOKEN: TEST_ACCESS_TOKEN,
    WHATSAPP_PHONE_NUMBER_ID: TEST_PHONE_NUMBER_ID,
    INTEGRATION_API_TOKENS: TEST_API_TOKEN,
    BUSINESS_NAME: 'Acme Test Shop',
    SUPPORT_CONTACT: 'help@acme.test',
    PRIVACY_POLICY_URL: 'https://acme.test/privacy',
    LOG_LEVEL: 'debug',
    ...TEST_KEYS,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
