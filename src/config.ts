import { createHash } from 'node:crypto';
import { z } from 'zod';
import { LOCALE_CODE, LOCALES, type Locale } from './i18n/locales';

/**
 * The only reader of `process.env`. Variable names are part of the deployment contract (README, Configuration);
 * everything else here is ours and documented in .env.example and the README.
 */

const optionalSecret = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s ? s : undefined));

// One COUNTRY_LOCALES entry: an ISO 3166 country and a language code (BR:pt). Whether the bot speaks
// it is checked at start with the override folder, which may add languages (i18n/localeOverrides.ts).
const COUNTRY_LOCALE = new RegExp(`^[A-Z]{2}:${LOCALE_CODE.source.slice(1, -1)}$`);

/** A comma-separated value's entries, trimmed, empty ones dropped. */
const entries = (v?: string) =>
  (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

const csv = z.string().optional().transform(entries);

const port = (what: string) =>
  z.coerce
    .number({ error: `${what}: a TCP port number, 1-65535` })
    .int({ error: `${what}: a whole TCP port number, 1-65535` })
    .min(1, { error: `${what}: a TCP port number, 1-65535` })
    .max(65535, { error: `${what}: a TCP port number, 1-65535` });

const positiveInt = (what: string) =>
  z.coerce
    .number({ error: `${what}: a positive whole number` })
    .int()
    .positive();

const keyList = z
  .string()
  .optional()
  .superRefine((s, ctx) => {
    if (!s) return;
    for (const part of s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const idx = part.indexOf(':');
      const key = idx > 0 ? Buffer.from(part.slice(idx + 1), 'base64') : Buffer.alloc(0);
      if (idx <= 0 || key.length !== 32) {
        ctx.addIssue({ code: 'custom', message: 'comma-separated keyId:base64key entries, each key 32 bytes' });
        return;
      }
    }
  });

const hmacKey = z
  .string()
  .optional()
  .superRefine((s, ctx) => {
    if (s && Buffer.from(s, 'base64').length < 32) ctx.addIssue({ code: 'custom', message: 'a base64 key of at least 32 bytes' });
  });

const schema = z
  .object({
    NODE_ENV: z.enum(['production', 'development', 'test']).optional(),
    PORT: port('PORT').default(3000).describe('HTTP port'),
    HOST: z.string().min(1).optional().describe('bind address (default 0.0.0.0; loopback in sandbox mode)'),
    MONGODB_URI: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, { error: 'a mongodb:// or mongodb+srv:// connection string' })
      .optional()
      .describe('MongoDB connection string; unset = embedded server'),
    EMBEDDED_DB_PORT: port('EMBEDDED_DB_PORT').optional().describe('port of the embedded server (default: a free one)'),
    EMBEDDED_DB_DIR: z.string().min(1).optional().describe('data folder of the embedded server (default ./data/db)'),
    EMBEDDED_DB_ENGINE: z
      // `ferretdb` (before PostgreSQL was the default) meant FerretDB on SQLite.
      .enum(['postgresql', 'sqlite', 'ferretdb', 'mongodb-memory-server'], { error: 'postgresql, sqlite or mongodb-memory-server' })
      .transform((e) => (e === 'ferretdb' ? 'sqlite' : e))
      .optional()
      .describe('embedded engine: FerretDB on postgresql (default) or sqlite, or mongodb-memory-server'),
    DATA_DIR: z.string().min(1).default('./data').describe('where development keys and the embedded database live'),
    WHATSAPP_APP_SECRET: optionalSecret,
    WHATSAPP_VERIFY_TOKEN: optionalSecret,
    WHATSAPP_ACCESS_TOKEN: optionalSecret,
    WHATSAPP_DISPLAY_NUMBER: z
      .string()
      .regex(/^\+?\d{6,15}$/, { error: 'the business WhatsApp number in E.164, e.g. +15550001111' })
      .optional()
      .describe("the business's WhatsApp number as people see it, for opt-in links (https://wa.me/<number>)"),
    WHATSAPP_PHONE_NUMBER_ID: z
      .string()
      .optional()
      .superRefine((s, ctx) => {
        const ids = (s ?? '')
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
        if (ids.some((x) => !/^\d{1,32}$/.test(x))) ctx.addIssue({ code: 'custom', message: 'one or more phone number ids (digits), comma-separated' });
      })
      .describe('business phone number ids this deployment answers for'),
    WEBHOOK_REPLAY_WINDOW_HOURS: positiveInt('WEBHOOK_REPLAY_WINDOW_HOURS')
      .default(168)
      .describe('deliveries whose event is older than this are kept aside, not acted on (Meta retries for up to 7 days)'),
    GRAPH_API_BASE_URL: z.url({ error: 'an http(s) URL' }).default('https://graph.facebook.com'),
    GRAPH_API_VERSION: z
      .string()
      .regex(/^v\d+\.\d+$/, { error: 'a Graph API version such as v24.0' })
      .default('v24.0'),
    GRAPH_API_TIMEOUT_MS: positiveInt('GRAPH_API_TIMEOUT_MS').default(10000),
    SEND_RATE_PER_SECOND: positiveInt('SEND_RATE_PER_SECOND').default(80).describe('Graph sends per second per business number'),
    UTILITY_TEMPLATE_NAME: z.string().optional().describe('template used outside the 24 h window'),
    PII_ENCRYPTION_KEYS: keyList,
    PII_HMAC_KEY: hmacKey,
    PII_ACCEPT_UNBOUND_VALUES: z
      .enum(['true', 'false'], { error: 'true or false' })
      .default('false')
      .describe('open values sealed before they were bound to their place (only while upgrading; run migrate-ids)'),
    INTEGRATION_API_TOKENS: csv,
    DEFAULT_LOCALE: z
      .string()
      .regex(LOCALE_CODE, { error: `a language code: one of ${LOCALES.join(', ')}, or one LOCALES_OVERRIDE_DIR adds` })
      .default('en'),
    COUNTRY_LOCALES: z
      .string()
      .optional()
      .superRefine((s, ctx) => {
        for (const part of (s ?? '')
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean)) {
          if (!COUNTRY_LOCALE.test(part)) ctx.addIssue({ code: 'custom', message: 'comma-separated COUNTRY:locale entries such as BR:pt,CH:de' });
        }
      })
      .describe('country (ISO 3166) → reply language, added to the built-in map'),
    BUSINESS_NAME: z.string().default('Example Shop (sandbox)'),
    SUPPORT_CONTACT: z.string().default('support@example.com'),
    PRIVACY_POLICY_URL: z.string().default('https://example.com/privacy'),
    RETENTION_MESSAGES_DAYS: positiveInt('RETENTION_MESSAGES_DAYS').default(90),
    RETENTION_INBOX_DAYS: positiveInt('RETENTION_INBOX_DAYS').default(7),
    RETENTION_LEDGER_DAYS: positiveInt('RETENTION_LEDGER_DAYS').default(365 * 6),
    ALERT_WEBHOOK_URL: z.url({ error: 'an http(s) URL' }).optional().describe('receives a JSON POST on bursts of security events'),
    ALERT_BURST_THRESHOLD: positiveInt('ALERT_BURST_THRESHOLD').default(10),
    LOCALES_OVERRIDE_DIR: z.string().optional().describe("a folder of <lng>.json files with the deployer's own keywords and reply texts"),
    EVENT_WEBHOOK_URLS: z
      .string()
      .optional()
      .superRefine((s, ctx) => {
        for (const u of entries(s)) {
          if (!z.url({ protocol: /^https?$/ }).safeParse(u).success) ctx.addIssue({ code: 'custom', message: 'comma-separated http(s) URLs' });
        }
      })
      .describe('receivers of signed privacy events (consent, erasure, access, suppression)'),
    EVENT_WEBHOOK_SECRETS: z.string().optional().describe('one signing secret per receiver, same order, at least 32 characters each'),
    EVENT_WEBHOOK_INCLUDE_NUMBER: z
      .string()
      .optional()
      .superRefine((s, ctx) => {
        if (s && s.split(',').some((x) => !['true', 'false'].includes(x.trim())))
          ctx.addIssue({ code: 'custom', message: 'true or false, or one per receiver' });
      })
      .describe("whether a receiver gets the person's number besides its pseudonym (default false)"),
    EVENT_WEBHOOK_ALERT_AFTER_FAILURES: positiveInt('EVENT_WEBHOOK_ALERT_AFTER_FAILURES').default(10),
    WORKERS: z.enum(['on', 'off']).default('on').describe('run the inbox/outbox workers in this process'),
    METRICS_TOKEN: optionalSecret.describe('GET /metrics needs it as a bearer token (required in production)'),
    TRUST_PROXY: z.string().optional().describe('which X-Forwarded-For hops to believe (Express "trust proxy": loopback, a hop count, or addresses/subnets)'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((c, ctx) => {
    // A replay is recognised by its dedupe key for as long as the key is kept; older ones by age.
    if (c.RETENTION_INBOX_DAYS * 24 < c.WEBHOOK_REPLAY_WINDOW_HOURS) {
      ctx.addIssue({
        code: 'custom',
        path: ['RETENTION_INBOX_DAYS'],
        message: 'must cover WEBHOOK_REPLAY_WINDOW_HOURS (dedupe keys are kept at least that long)',
      });
    }
    const urls = entries(c.EVENT_WEBHOOK_URLS);
    const secrets = entries(c.EVENT_WEBHOOK_SECRETS);
    if (urls.length !== secrets.length) {
      ctx.addIssue({ code: 'custom', path: ['EVENT_WEBHOOK_SECRETS'], message: 'one secret per EVENT_WEBHOOK_URLS entry, in the same order' });
    } else if (secrets.some((x) => x.length < 32)) {
      ctx.addIssue({ code: 'custom', path: ['EVENT_WEBHOOK_SECRETS'], message: 'each secret at least 32 characters' });
    }
    if (new Set(urls).size !== urls.length) ctx.addIssue({ code: 'custom', path: ['EVENT_WEBHOOK_URLS'], message: 'each receiver once' });
    // A trusted receiver's events carry the number: never over plain http in production.
    if (c.NODE_ENV === 'production' && urls.some((u) => u.startsWith('http:'))) {
      ctx.addIssue({ code: 'custom', path: ['EVENT_WEBHOOK_URLS'], message: 'https URLs only when NODE_ENV=production' });
    }
    const include = entries(c.EVENT_WEBHOOK_INCLUDE_NUMBER);
    if (include.length > 1 && include.length !== urls.length) {
      ctx.addIssue({ code: 'custom', path: ['EVENT_WEBHOOK_INCLUDE_NUMBER'], message: 'one value for all receivers, or one per EVENT_WEBHOOK_URLS entry' });
    }
    if (c.NODE_ENV !== 'production') return;
    // Production forbids sandbox mode: every secret and key must be set (README, Configuration).
    for (const key of [
      'MONGODB_URI',
      'WHATSAPP_APP_SECRET',
      'WHATSAPP_VERIFY_TOKEN',
      'WHATSAPP_ACCESS_TOKEN',
      'WHATSAPP_PHONE_NUMBER_ID',
      'PII_ENCRYPTION_KEYS',
      'PII_HMAC_KEY',
      // The metrics name security events (locks, failed logins): they must not be public.
      'METRICS_TOKEN',
    ] as const) {
      if (!c[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required when NODE_ENV=production' });
    }
    if (c.WHATSAPP_PHONE_NUMBER_ID !== undefined && !c.WHATSAPP_PHONE_NUMBER_ID.split(',').some((x) => x.trim())) {
      ctx.addIssue({ code: 'custom', path: ['WHATSAPP_PHONE_NUMBER_ID'], message: 'at least one phone number id when NODE_ENV=production' });
    }
  });

export type Env = z.infer<typeof schema>;

/** The business number of the sandbox's simulated chats (no WhatsApp number is configured there). */
export const SANDBOX_NUMBER = 'sandbox';

export interface Config {
  env: 'production' | 'development' | 'test';
  port: number;
  host: string;
  mongodbUri?: string;
  embeddedDb: { port?: number; dir?: string; engine?: 'postgresql' | 'sqlite' | 'mongodb-memory-server' };
  dataDir: string;
  /** Sandbox: no WhatsApp credential at all and not production; replies go to the local simulator. */
  sandbox: boolean;
  /**
   * `phoneNumberIds`: the business numbers we answer for; the first is the sender of messages that
   * no inbound message determines (a person known only through the integration API).
   */
  whatsapp: { appSecret?: string; verifyToken?: string; accessToken?: string; phoneNumberIds: string[]; displayNumber?: string };
  /** Deliveries whose event is older than this are kept aside (webhook/explode.ts). */
  replayWindowMs: number;
  graph: { baseUrl: string; version: string; timeoutMs: number; ratePerSecond: number; utilityTemplate?: string };
  pii: { encryptionKeys?: string; hmacKey?: string; acceptUnbound: boolean };
  integrationTokens: string[];
  defaultLocale: Locale;
  /** Additions to the built-in country → language map (chat/countryLocale.ts). */
  countryLocales: Record<string, Locale>;
  business: { name: string; supportContact: string; privacyPolicyUrl: string };
  retention: { messagesDays: number; inboxDays: number; ledgerDays: number };
  alerts: { alertWebhookUrl?: string; alertBurstThreshold: number };
  /** The deployer's keywords and reply texts (i18n/localeOverrides.ts), if any. */
  localesOverrideDir?: string;
  /** Receivers of privacy events (events/): where, the signing secret, and whether they get the number. */
  events: { receivers: EventReceiver[]; alertAfterFailures: number };
  workers: boolean;
  logLevel: string;
  metricsToken?: string;
  /** Express "trust proxy": only these hops' X-Forwarded-For is believed (login limits key on the client address). */
  trustProxy: string | number;
}

export interface EventReceiver {
  /** A short stable id (from the URL): names the receiver in the delivery log and in event ids. */
  id: string;
  url: string;
  secret: string;
  includeNumber: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

/** Parses the environment once; throws ConfigError naming every bad variable (never its value). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty value means unset: docker compose passes every `KEY=` line of an .env file as "".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${String(i.path[0] ?? '?')}: ${i.message.replace(/^[A-Z_]+: /, '')}`));
  }
  const e = parsed.data;
  // Sandbox only when no WhatsApp credential at all is set (and never in production): a deployment
  // that is half configured must fail closed, not open an unauthenticated simulator.
  const sandbox = e.NODE_ENV !== 'production' && !e.WHATSAPP_APP_SECRET && !e.WHATSAPP_ACCESS_TOKEN && !e.WHATSAPP_VERIFY_TOKEN && !e.WHATSAPP_PHONE_NUMBER_ID;
  const phoneNumberIds = [
    ...new Set(
      (e.WHATSAPP_PHONE_NUMBER_ID ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  ];
  return Object.freeze({
    env: e.NODE_ENV ?? 'development',
    port: e.PORT,
    // The simulator serves anyone who can reach it: loopback unless the deployer says otherwise.
    host: e.HOST ?? (sandbox ? '127.0.0.1' : '0.0.0.0'),
    mongodbUri: e.MONGODB_URI,
    embeddedDb: { port: e.EMBEDDED_DB_PORT, dir: e.EMBEDDED_DB_DIR, engine: e.EMBEDDED_DB_ENGINE },
    dataDir: e.DATA_DIR,
    sandbox,
    whatsapp: {
      appSecret: e.WHATSAPP_APP_SECRET,
      verifyToken: e.WHATSAPP_VERIFY_TOKEN,
      accessToken: e.WHATSAPP_ACCESS_TOKEN,
      phoneNumberIds: phoneNumberIds.length ? phoneNumberIds : [SANDBOX_NUMBER],
      displayNumber: e.WHATSAPP_DISPLAY_NUMBER?.replace(/^\+/, ''),
    },
    replayWindowMs: e.WEBHOOK_REPLAY_WINDOW_HOURS * 3600_000,
    graph: {
      baseUrl: e.GRAPH_API_BASE_URL.replace(/\/+$/, ''),
      version: e.GRAPH_API_VERSION,
      timeoutMs: e.GRAPH_API_TIMEOUT_MS,
      ratePerSecond: e.SEND_RATE_PER_SECOND,
      utilityTemplate: e.UTILITY_TEMPLATE_NAME || undefined,
    },
    pii: { encryptionKeys: e.PII_ENCRYPTION_KEYS, hmacKey: e.PII_HMAC_KEY, acceptUnbound: e.PII_ACCEPT_UNBOUND_VALUES === 'true' },
    integrationTokens: e.INTEGRATION_API_TOKENS,
    defaultLocale: e.DEFAULT_LOCALE,
    countryLocales: Object.fromEntries(
      (e.COUNTRY_LOCALES ?? '')
        .split(',')
        .map((p) => p.trim().split(':'))
        .filter((p) => p.length === 2),
    ) as Config['countryLocales'],
    business: { name: e.BUSINESS_NAME, supportContact: e.SUPPORT_CONTACT, privacyPolicyUrl: e.PRIVACY_POLICY_URL },
    retention: { messagesDays: e.RETENTION_MESSAGES_DAYS, inboxDays: e.RETENTION_INBOX_DAYS, ledgerDays: e.RETENTION_LEDGER_DAYS },
    alerts: { alertWebhookUrl: e.ALERT_WEBHOOK_URL, alertBurstThreshold: e.ALERT_BURST_THRESHOLD },
    localesOverrideDir: e.LOCALES_OVERRIDE_DIR,
    events: { receivers: eventReceivers(e), alertAfterFailures: e.EVENT_WEBHOOK_ALERT_AFTER_FAILURES },
    workers: e.WORKERS === 'on',
    logLevel: e.LOG_LEVEL,
    metricsToken: e.METRICS_TOKEN,
    // Default: a reverse proxy on the same host only; anyone else could write their own address.
    trustProxy: e.TRUST_PROXY === undefined ? 'loopback' : /^\d+$/.test(e.TRUST_PROXY) ? Number(e.TRUST_PROXY) : e.TRUST_PROXY === 'false' ? 0 : e.TRUST_PROXY,
  });
}

function eventReceivers(e: Env): EventReceiver[] {
  const secrets = entries(e.EVENT_WEBHOOK_SECRETS);
  const include = entries(e.EVENT_WEBHOOK_INCLUDE_NUMBER);
  return entries(e.EVENT_WEBHOOK_URLS).map((url, i) => ({
    id: createHash('sha256').update(url).digest('hex').slice(0, 12),
    url,
    secret: secrets[i],
    includeNumber: (include.length > 1 ? include[i] : include[0]) === 'true',
  }));
}

/** For entry points: the configuration, or one readable message on stderr and exit code 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
