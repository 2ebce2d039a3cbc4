import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Paths that may carry a phone number, a name, a message text or a secret. Events should not
 * carry them at all (we log keyed hashes); redaction is the second line of defence.
 */
export const REDACT_PATHS = [
  'phone', '*.phone', 'number', '*.number', 'waId', '*.waId', 'wa_id', '*.wa_id', 'from', '*.from', 'to', '*.to',
  'name', '*.name', 'profileName', '*.profileName', 'text', '*.text', 'body', '*.body', 'caption', '*.caption',
  'token', '*.token', 'password', '*.password', 'secret', '*.secret', 'authorization', '*.authorization',
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-hub-signature-256"]', 'res.headers["set-cookie"]',
  'req.query', 'req.url', 'req.params',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'privacy-bot' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
