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
    [{ DEFAULT_LOCALE: 'English' }, 'DEFAULT_LOCALE'],
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

  describe('event receivers (EVENT_WEBHOOK_*)', () => {
    const LONG = 'x'.repeat(32);
    it.each<[string, Record<string, string>, string]>([
      ['a secret missing', { EVENT_WEBHOOK_URLS: 'https://a.example/h,https://b.example/h', EVENT_WEBHOOK_SECRETS: LONG }, 'EVENT_WEBHOOK_SECRETS'],
      ['a secret too short', { EVENT_WEBHOOK_URLS: 'https://a.example/h', EVENT_WEBHOOK_SECRETS: 'short' }, 'EVENT_WEBHOOK_SECRETS'],
      ['a URL that is not one', { EVENT_WEBHOOK_URLS: 'crm.example', EVENT_WEBHOOK_SECRETS: LONG }, 'EVENT_WEBHOOK_URLS'],
      ['a secret with no receiver', { EVENT_WEBHOOK_SECRETS: LONG }, 'EVENT_WEBHOOK_SECRETS'],
      [
        'a number flag per receiver that does not match',
        {
          EVENT_WEBHOOK_URLS: 'https://a.example/h,https://b.example/h,https://c.example/h',
          EVENT_WEBHOOK_SECRETS: `${LONG},${LONG},${LONG}`,
          EVENT_WEBHOOK_INCLUDE_NUMBER: 'true,false',
        },
        'EVENT_WEBHOOK_INCLUDE_NUMBER',
      ],
      [
        'the same receiver twice',
        { EVENT_WEBHOOK_URLS: 'https://a.example/h,https://a.example/h', EVENT_WEBHOOK_SECRETS: `${LONG},${LONG}` },
        'EVENT_WEBHOOK_URLS',
      ],
      ['plain http in production', { NODE_ENV: 'production', EVENT_WEBHOOK_URLS: 'http://crm.example/h', EVENT_WEBHOOK_SECRETS: LONG }, 'EVENT_WEBHOOK_URLS'],
      [
        'a number flag that is not true or false',
        { EVENT_WEBHOOK_URLS: 'https://a.example/h', EVENT_WEBHOOK_SECRETS: LONG, EVENT_WEBHOOK_INCLUDE_NUMBER: 'yes' },
        'EVENT_WEBHOOK_INCLUDE_NUMBER',
      ],
    ])('refuses %s, naming the variable and never the secret', (_name, env, variable) => {
      const p = problems(env);
      expect(p.map((x) => x.split(':')[0])).toContain(variable);
      expect(p.join(' ')).not.toContain(LONG);
    });

    it('reads receivers with a stable id each, and the number flag for all or per receiver', () => {
      const two = { EVENT_WEBHOOK_URLS: 'https://crm.example/h, https://mail.example/h', EVENT_WEBHOOK_SECRETS: `${LONG}, ${'y'.repeat(40)}` };
      const all = loadConfig({ ...two, EVENT_WEBHOOK_INCLUDE_NUMBER: 'true' }).events.receivers;
      expect(all.map((r) => [r.url, r.includeNumber])).toEqual([
        ['https://crm.example/h', true],
        ['https://mail.example/h', true],
      ]);
      const each = loadConfig({ ...two, EVENT_WEBHOOK_INCLUDE_NUMBER: 'false,true' }).events.receivers;
      expect(each.map((r) => r.includeNumber)).toEqual([false, true]);
      expect(each[1].secret).toBe('y'.repeat(40));
      expect(each[0].id).toMatch(/^[0-9a-f]{12}$/);
      expect(each[0].id).toBe(all[0].id);
      expect(each[0].id).not.toBe(each[1].id);
      expect(loadConfig({}).events.receivers).toEqual([]);
      expect(loadConfig(two).events.receivers.every((r) => !r.includeNumber)).toBe(true);
    });
  });
});
