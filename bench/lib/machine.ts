import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  os: string;
  loadAverage: number[];
  database: string;
  /** The code measured: git commit, and whether src/ had uncommitted changes. */
  revision: string;
  date: string;
}

function revision(root: string): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' }).trim();
    return dirty ? `${sha} with uncommitted changes in src/` : sha;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function nproc(): number {
  try {
    return Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    return os.availableParallelism();
  }
}

function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim();
    const mhz = /^cpu MHz\s*:\s*(.+)$/m.exec(info)?.[1]?.trim();
    if (model) return mhz ? `${model} (${Math.round(Number(mhz))} MHz)` : model;
  } catch {
    /* not Linux */
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

function memoryGiB(): number {
  try {
    const kb = Number(/^MemTotal:\s*(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
    if (kb > 0) return Math.round((kb / 1048576) * 10) / 10;
  } catch {
    /* not Linux */
  }
  return Math.round((os.totalmem() / 2 ** 30) * 10) / 10;
}

export function describeMachine(database: string, root: string): Machine {
  return {
    nproc: nproc(),
    cpuModel: cpuModel(),
    memoryGiB: memoryGiB(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    database,
    revision: revision(root),
    date: new Date().toISOString(),
  };
}
