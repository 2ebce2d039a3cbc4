import { ConfigError, loadConfig } from '../../src/config';
import { TEST_KEYS } from '../support/harness';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('gives the contract defaults with an empty environment (sandbox)', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.host).toBe('127.0.0.1'); // sandbox mode: loopback unless HOST is set
    expect(c.graph.baseUrl).toBe('https://graph.facebook.com');
    expect(c.graph.version).toMatch(/^v\d+\.\d+$/);
    expect(c.defaultLocale).toBe('en');
    expect(c.sandbox).toBe(true);
    expect(c.integrationTokens).toEqual([]);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ MONGODB_URI: 'postgres://x' }, 'MONGODB_URI'],
    [{ GRAPH_API_VERSION: '24' }, 'GRAPH_API_VERSION'],
    [{ DEFAULT_LOCALE: 'xx' }, 'DEFAULT_LOCALE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ PII_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' }, 'PII_ENCRYPTION_KEYS'],
  ])('rejects %p naming %s', (env, name) => {
    const p = problems(env as Record<string, string>);
    expect(p).toHaveLength(1);
    expect(p[0].startsWith(`${name}:`)).toBe(true);
  });

  it('lists every bad variable at once and never prints a value', () => {
    const p = problems({ PORT: 'abc', PII_HMAC_KEY: 'c2VjcmV0LXZhbHVl', LOG_LEVEL: 'loud' });
    expect(p.map((x) => x.split(':')[0]).sort()).toEqual(['LOG_LEVEL', 'PII_HMAC_KEY', 'PORT']);
    expect(p.join(' ')).not.toContain('c2VjcmV0LXZhbHVl');
  });

  it('treats empty values as unset (docker compose passes KEY= lines as "")', () => {
    const c = loadConfig({ EMBEDDED_DB_PORT: '', EMBEDDED_DB_DIR: '', BUSINESS_NAME: '', PORT: '', WHATSAPP_APP_SECRET: ' ' });
    expect(c.embeddedDb).toEqual({ port: undefined, dir: undefined });
    expect(c.business.name).toBe('Example Shop (sandbox)');
    expect(c.port).toBe(3000);
    expect(c.sandbox).toBe(true);
  });

  it('in production requires every secret and key, and so refuses sandbox mode', () => {
    const p = problems({ NODE_ENV: 'production' });
    for (const name of [
      'MONGODB_URI',
      'WHATSAPP_APP_SECRET',
      'WHATSAPP_VERIFY_TOKEN',
      'WHATSAPP_ACCESS_TOKEN',
      'WHATSAPP_PHONE_NUMBER_ID',
      'PII_ENCRYPTION_KEYS',
      'PII_HMAC_KEY',
      'METRICS_TOKEN',
    ]) {
      expect(p.some((x) => x.startsWith(`${name}:`))).toBe(true);
    }
  });

  it('in production with everything set is not sandbox', () => {
    const c = loadConfig({
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://db:27017/bot',
      WHATSAPP_APP_SECRET: 's',
      WHATSAPP_VERIFY_TOKEN: 'v',
      WHATSAPP_ACCESS_TOKEN: 't',
      WHATSAPP_PHONE_NUMBER_ID: '1',
      METRICS_TOKEN: 'm',
      ...TEST_KEYS,
    });
    expect(c.sandbox).toBe(false);
    expect(c.env).toBe('production');
  });
});
