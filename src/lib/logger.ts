import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Paths that may carry a phone number, a name, a message text or a secret. Events should not
 * carry them at all (we log keyed hashes); redaction is the second line of defence.
 */
export const REDACT_PATHS = [
  'phone',
  '*.phone',
  'number',
  '*.number',
  'waId',
  '*.waId',
  'wa_id',
  '*.wa_id',
  'from',
  '*.from',
  'to',
  '*.to',
  'name',
  '*.name',
  'profileName',
  '*.profileName',
  'text',
  '*.text',
  'body',
  '*.body',
  'caption',
  '*.caption',
  'token',
  '*.token',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hub-signature-256"]',
  'res.headers["set-cookie"]',
  'req.query',
  'req.url',
  'req.params',
];

/**
 * Errors are logged by class, code and stack frames only: a message can quote what the code was
 * working on (a number, a text). Our own AppError messages are our words and are kept.
 */
export function safeErr(err: unknown, depth = 0): Record<string, unknown> {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; stack?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return { type: typeof err };
  const ours = e.name === 'AppError';
  const frames =
    typeof e.stack === 'string'
      ? e.stack
          .split('\n')
          .filter((l) => /^\s+at /.test(l))
          .slice(0, 12)
          .join('\n')
      : undefined;
  return {
    type: typeof e.name === 'string' ? e.name : 'Error',
    ...(typeof e.code === 'string' || typeof e.code === 'number' ? { code: e.code } : {}),
    ...(ours && typeof e.message === 'string' ? { message: e.message } : {}),
    ...(frames ? { stack: frames } : {}),
    ...(e.cause && depth < 3 ? { cause: safeErr(e.cause, depth + 1) } : {}),
  };
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'privacy-bot' },
      serializers: { err: (e: unknown) => safeErr(e) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
