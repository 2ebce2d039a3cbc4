/**
 * One error class for bugs and outages. Expected outcomes (already opted out, nothing to export…)
 * are values returned by use cases, never thrown.
 *
 * Codes:
 * - DB.UNAVAILABLE: the database did not answer; webhook answers 503 so Meta retries.
 * - DB.EMBEDDED_FAILED: the embedded server could not be built or started.
 * - CRYPTO.KEY_MISSING: a value was encrypted under a key id that is no longer configured.
 * - GRAPH.SEND_FAILED: the Graph API could not be reached or answered with an error.
 * - CONFIG.INVALID: configuration rejected at start-up.
 */
export type ErrorCode =
  | 'DB.UNAVAILABLE'
  | 'DB.EMBEDDED_FAILED'
  | 'CRYPTO.KEY_MISSING'
  | 'CRYPTO.BAD_CIPHERTEXT'
  | 'GRAPH.SEND_FAILED'
  | 'CONFIG.INVALID'
  | 'LEDGER.APPEND_FAILED'
  | 'MIGRATION.UNMAPPED_ID'
  | 'MIGRATION.CHAIN_BROKEN';

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  constructor(code: ErrorCode, message: string, opts: { httpStatus?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.httpStatus = opts.httpStatus ?? 500;
  }
}

/** A fixed-vocabulary label for an error, safe to store and log (a message may quote personal data). */
export function errorLabel(err: unknown): string {
  if (err instanceof AppError) return err.code;
  const e = err as { name?: unknown; code?: unknown } | null;
  const code = typeof e?.code === 'string' || typeof e?.code === 'number' ? `:${String(e.code).slice(0, 40)}` : '';
  return `${typeof e?.name === 'string' ? e.name.slice(0, 60) : 'Error'}${code}`;
}
