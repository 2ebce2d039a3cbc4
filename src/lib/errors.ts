/**
 * One error class for bugs and outages. Expected outcomes (already opted out, nothing to export…)
 * are values returned by use cases, never thrown.
 *
 * Codes:
 * - DB.UNAVAILABLE: the database did not answer; webhook answers 503 so Meta retries.
 * - DB.EMBEDDED_FAILED: the embedded server could not be built or started.
 * - CRYPTO.KEY_MISSING: no encryption key is configured, or a value was sealed under a key id that no longer is.
 * - CRYPTO.BAD_CIPHERTEXT: not a sealed value, or one that does not open at its place (tampered, moved, or unbound).
 * - LEDGER.APPEND_FAILED: a chained append kept colliding with concurrent appends.
 * - MIGRATION.UNMAPPED_ID: migrate-ids met an id of the old form that maps to itself.
 * - MIGRATION.CHAIN_BROKEN: migrate-ids found a chain broken before, or after, re-chaining it.
 */
export type ErrorCode =
  | 'DB.UNAVAILABLE'
  | 'DB.EMBEDDED_FAILED'
  | 'CRYPTO.KEY_MISSING'
  | 'CRYPTO.BAD_CIPHERTEXT'
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
