import type { Deps } from '../deps';
import { runErasureJob } from './erasure';

/**
 * Finishes erasures interrupted by a crash: a running job whose lease ran out is claimed and run
 * again from the start (every step is idempotent). Never half-done.
 */
export async function resumeErasureJobs(deps: Deps): Promise<number> {
  const { ErasureJob } = deps.models;
  let n = 0;
  for (;;) {
    const now = deps.clock.now();
    const job = await ErasureJob.findOneAndUpdate(
      { state: 'running', leaseUntil: { $lt: now } },
      { $set: { leaseUntil: new Date(now.getTime() + 60_000) } },
      { returnDocument: 'after' },
    ).lean();
    if (!job) return n;
    await runErasureJob(deps, job._id);
    n += 1;
  }
}
