import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** CPU time (user + system) a process has used so far, in ms; NaN when it cannot be read. */
export function processCpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command name start at field 3 (state); utime and stime are fields 14 and 15.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / clockTicks();
  } catch {
    return NaN;
  }
}

export const cpuUsageMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

/**
 * CPU time (user + system, own and of waited-for children) of processes and everything below
 * them, in ms; NaN when none can be read. For a database made of several processes: FerretDB and
 * the PostgreSQL server with one backend process per connection. A backend that exits between two
 * readings moves into its parent's children's time, so differences stay right.
 */
export function processTreeCpuMs(rootPids: (number | undefined)[]): number {
  const roots = rootPids.filter((p): p is number => !!p);
  if (!roots.length) return NaN;
  const stats = new Map<number, { ppid: number; ms: number }>();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return NaN;
  }
  const tick = clockTicks();
  for (const d of entries) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // From field 3 (state): ppid is field 4, utime/stime/cutime/cstime fields 14–17.
      const ms = ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / tick;
      stats.set(Number(d), { ppid: Number(f[1]), ms });
    } catch {
      /* exited meanwhile */
    }
  }
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  let total = 0;
  let found = false;
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const s = stats.get(pid);
    if (s) {
      total += s.ms;
      found = true;
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return found ? total : NaN;
}
