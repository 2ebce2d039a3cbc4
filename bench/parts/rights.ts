import { spawnChild } from '../lib/rpc';
import { appEnv } from '../lib/env';
import { mib, ms } from '../lib/stats';
import { envInt, logFile, type BenchContext } from './context';
import type { RightsArgs } from './rightsChild';

/**
 * Part 3 — rights at scale: one subscriber with 10,000 messages beside `others` messages of 10,000
 * other people; MY DATA and DELETE timed at two database sizes, so one can see whether the cost
 * follows the person's own data or the size of the database. Each size runs in a fresh database
 * and a fresh child process (its memory is the measurement's alone).
 */
export interface RightsScaleResult {
  others: number;
  // Whatever rightsChild.run returned (kept whole in results.json).
  [k: string]: unknown;
}

export async function runRights(ctx: BenchContext): Promise<{ scales: RightsScaleResult[] }> {
  const big = envInt(ctx.env, 'BENCH_OTHERS', 1_000_000);
  const small = envInt(ctx.env, 'BENCH_OTHERS_SMALL', 100_000);
  const own = envInt(ctx.env, 'BENCH_OWN_MESSAGES', 10_000);
  const otherSubscribers = envInt(ctx.env, 'BENCH_OTHER_SUBSCRIBERS', 10_000);
  const batch = envInt(ctx.env, 'BENCH_SEED_BATCH', 10_000);
  const sizes = [...new Set([small, big])].sort((a, b) => a - b);
  const scales: RightsScaleResult[] = [];
  for (const others of sizes) {
    const dbName = ctx.db.newDatabase(`rights${others}`);
    ctx.log(
      `rights: ${others.toLocaleString('en-US')} messages of ${otherSubscribers.toLocaleString('en-US')} others + ${own.toLocaleString('en-US')} own (fresh database, child process)…`,
    );
    const child = await spawnChild(
      'rights',
      { env: appEnv({ mongodbUri: ctx.db.uriFor(dbName) }), logFile: logFile(ctx, `rights-${others}`) },
      (l) => ctx.log(`  [rights ${others}] ${l}`),
      ['--expose-gc'],
    );
    try {
      const args: RightsArgs = { others, otherSubscribers, own, batch, exportRuns: 2 };
      const r = await child.call<Record<string, unknown>>('run', args, 60 * 60_000);
      const seed = r.seed as { seconds: { total: number; otherMessages: number }; messagesPerSecond: number };
      const exps = r.exports as { elapsedMs: number; memory: { rssPeak: number; rssBefore: number; heapDelta: number } }[];
      const conf = r.erasureConfirm as { elapsedMs: number };
      ctx.log(
        `rights ${others}: seeding ${seed.seconds.total.toFixed(0)} s (${Math.round(seed.messagesPerSecond)} messages/s); ` +
          `MY DATA ${exps.map((e) => ms(e.elapsedMs)).join(' / ')}, peak RSS ${mib(exps[0].memory.rssPeak)} (+${mib(exps[0].memory.rssPeak - exps[0].memory.rssBefore)}); ` +
          `DELETE ${ms(conf.elapsedMs)}`,
      );
      scales.push({ others, ...r });
    } finally {
      await child.stop();
    }
  }
  return { scales };
}
