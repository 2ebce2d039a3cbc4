import type { Writable } from 'node:stream';
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

/**
 * How far (bytes) the reader of stdout may fall behind before lines are dropped: a few thousand
 * lines, enough to ride out a log shipper's hiccup without holding much memory.
 */
export const STDOUT_BACKLOG_BYTES = 1024 * 1024;

/** Where the service's log lines go (main.ts): stdout, never blocking, bounded. */
export interface StdoutDestination extends DestinationStream {
  /** Lines dropped so far because the reader of stdout was too far behind (or gone). */
  readonly dropped: number;
  /** `fn` runs for every line dropped from now on (main.ts counts them in /metrics). */
  onDrop(fn: () => void): void;
  /** `fn(lines)` runs when the reader has caught up after `lines` were dropped (main.ts logs the gap). */
  onCaughtUp(fn: (lines: number) => void): void;
  /** Resolves once everything accepted is handed to the OS, or after `timeoutMs`, whichever is first. */
  flush(timeoutMs: number): Promise<void>;
}

/**
 * Log lines to stdout that can never stop the process, whoever reads it (a log shipper that stalls:
 * Docker's log drivers block by default). pino's default destination (SonicBoom on fd 1,
 * node_modules/pino/lib/tools.js) keeps every unwritten line in memory without bound, and on
 * process.exit flushes them synchronously, retrying EAGAIN forever: SIGTERM then never ends the
 * process (test/faults/6-stalled-stdout.fault.ts). SonicBoom's `maxLength` bounds the memory but
 * not the exit-time flush, and on a descriptor left blocking its fs.write parks a libuv thread in
 * write(2) that process.exit waits for.
 *
 * On a pipe or socket `process.stdout` is a libuv stream: the descriptor is non-blocking, what the
 * pipe takes is written at once and the rest is queued in memory (Node's docs call pipe writes
 * synchronous on Linux, which holds only while the pipe has room:
 * https://nodejs.org/api/process.html#a-note-on-process-io). We bound that queue: beyond
 * `maxBytes`, a line is dropped and counted instead. On a file the stream writes synchronously and
 * never queues, so nothing is dropped.
 */
export function stdoutDestination(out: Writable = process.stdout, maxBytes = STDOUT_BACKLOG_BYTES): StdoutDestination {
  let dropped = 0;
  let missed = 0;
  let broken = false;
  const dropFns: (() => void)[] = [];
  const caughtUpFns: ((lines: number) => void)[] = [];
  // EPIPE and the like: the reader is gone for good; lines are dropped from now on.
  out.on('error', () => {
    broken = true;
  });
  // 'drain' comes once the queue is empty again (a write returned false before lines were dropped).
  out.on('drain', () => {
    if (missed === 0) return;
    const lines = missed;
    missed = 0;
    for (const fn of caughtUpFns) fn(lines);
  });
  return {
    write(line: string) {
      if (broken || out.writableLength > maxBytes) {
        dropped += 1;
        missed += 1;
        for (const fn of dropFns) fn();
        return;
      }
      out.write(line);
    },
    get dropped() {
      return dropped;
    },
    onDrop(fn) {
      dropFns.push(fn);
    },
    onCaughtUp(fn) {
      caughtUpFns.push(fn);
    },
    flush(timeoutMs) {
      // Polled: 'drain' only follows a write that found the queue over its high-water mark.
      const deadline = Date.now() + timeoutMs;
      return new Promise<void>((resolve) => {
        const check = () => (broken || out.writableLength === 0 || Date.now() >= deadline ? resolve() : void setTimeout(check, 20));
        check();
      });
    },
  };
}
