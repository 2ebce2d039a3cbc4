import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where each run leaves its logs and figures (FAULTS_OUT, else a fresh folder under the temp dir). */
export function outDir(scenario: string): string {
  const base = process.env.FAULTS_OUT ?? path.join(os.tmpdir(), 'privacybot-faults');
  const dir = path.join(base, scenario);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Prints a scenario's figures (and keeps them as JSON beside the logs). */
export function report(scenario: string, figures: Record<string, unknown>): void {
  const file = path.join(outDir(scenario), 'figures.json');
  writeFileSync(file, JSON.stringify(figures, null, 2));
  console.log(`\n===== ${scenario} =====\n${JSON.stringify(figures, null, 2)}\n(figures: ${file})`);
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
