import path from 'node:path';
import type { BenchDbServer } from '../lib/db';

export interface BenchContext {
  db: BenchDbServer;
  /** bench-results/ */
  outDir: string;
  /** Where children write the app's log lines. */
  logDir: string;
  log(line: string): void;
  env: NodeJS.ProcessEnv;
}

export function logFile(ctx: BenchContext, name: string): string {
  return path.join(ctx.logDir, `${name}.log`);
}

/** A positive whole number from the environment, or the default. */
export function envInt(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number (got "${v}")`);
  return n;
}
