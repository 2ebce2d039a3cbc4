/**
 * The real service (dist/main.js) as a child process that can be SIGKILLed and restarted, with the
 * app environment every test starts from (test/support/env.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../src/db/embedded';
import { testEnv } from '../../support/env';
import { ROOT } from '../../support/proc';
import { httpGet } from './http';
import { sleep } from './wait';

export interface AppEnvOptions {
  mongodbUri: string;
  port: number;
  graphUrl: string;
  extra?: Record<string, string>;
}

/** The test environment on loopback, pointed at a scenario's database and fake Graph API. */
export function appEnv(o: AppEnvOptions): Record<string, string> {
  return testEnv({
    MONGODB_URI: o.mongodbUri,
    PORT: String(o.port),
    HOST: '127.0.0.1',
    GRAPH_API_BASE_URL: o.graphUrl,
    LOG_LEVEL: 'warn',
    DATA_DIR: path.join(os.tmpdir(), 'privacybot-faults-data'),
    ...o.extra,
  });
}

export interface AppProcessOptions {
  /**
   * 'unread': stdout is a pipe this side never reads, as when a log shipper stalls (its lines are
   * then not in the log file, and a fatal line is not seen as a crash; stderr still is).
   */
  stdout?: 'read' | 'unread';
}

interface Life {
  pid: number;
  startedAt: number;
  readyAt?: number;
  endedAt?: number;
  how?: string;
}

/**
 * `node dist/main.js` under our control. Every life's stdout/stderr is appended to one log file
 * (prefixed with the pid), so a crash can be traced afterwards.
 */
export class AppProcess {
  child?: ChildProcess;
  lives: Life[] = [];
  /** Lines of every life that look like a crash (uncaught exception, fatal, unhandled rejection). */
  crashes: string[] = [];
  /** Every stderr line (the service logs to stdout; stderr is Node's own voice). */
  stderr: string[] = [];
  /** Exits we did not cause. */
  unexpectedExits: { pid: number; code: number | null; signal: string | null; at: number }[] = [];
  private exited?: Promise<void>;
  private killing = false;

  constructor(
    readonly env: Record<string, string>,
    readonly logFile: string,
    readonly options: AppProcessOptions = {},
  ) {
    writeFileSync(logFile, '');
  }

  get url(): string {
    return `http://127.0.0.1:${this.env.PORT}`;
  }

  get alive(): boolean {
    return Boolean(this.child && this.child.exitCode === null && this.child.signalCode === null);
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  /** Spawns a new life; does not wait for readiness. */
  spawn(): Life {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'main.js')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...this.env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const life: Life = { pid: child.pid ?? 0, startedAt: Date.now() };
    this.lives.push(life);
    this.child = child;
    this.killing = false;
    const onData = (stream: string) => (d: Buffer) => {
      const text = d.toString('utf8');
      appendFileSync(
        this.logFile,
        text
          .split('\n')
          .filter(Boolean)
          .map((l) => `[${life.pid} ${stream}] ${l}\n`)
          .join(''),
      );
      for (const line of text.split('\n').filter(Boolean)) {
        // main.ts logs an uncaught exception at fatal (60) before exiting; Node itself writes
        // unhandled rejections, aborts and heap exhaustion to stderr.
        if (/uncaught exception|unhandledRejection|UnhandledPromiseRejection|"level":60|FATAL ERROR|heap out of memory/i.test(line))
          this.crashes.push(`[${life.pid}] ${line.slice(0, 2000)}`);
        if (stream === 'err') this.stderr.push(`[${life.pid}] ${line.slice(0, 500)}`);
      }
    };
    if (this.options.stdout !== 'unread') child.stdout!.on('data', onData('out'));
    child.stderr!.on('data', onData('err'));
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        life.endedAt = Date.now();
        life.how = signal ?? `exit ${code}`;
        if (!this.killing) this.unexpectedExits.push({ pid: life.pid, code, signal, at: life.endedAt });
        resolve();
      }),
    );
    return life;
  }

  /** Spawns and waits until /healthz answers 200; returns the start-up time in ms. */
  async start(timeoutMs = 60_000): Promise<number> {
    const life = this.spawn();
    await this.waitReady(life, timeoutMs);
    return (life.readyAt ?? Date.now()) - life.startedAt;
  }

  async waitReady(life = this.lives[this.lives.length - 1], timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`the service exited during start-up (${life.how}); see ${this.logFile}`);
      if ((await httpGet(`${this.url}/healthz`, 1000)).status === 200) {
        life.readyAt = Date.now();
        return;
      }
      await sleep(50);
    }
    throw new Error(`the service was not healthy after ${timeoutMs} ms; see ${this.logFile}`);
  }

  /** kill -9; resolves once the process is gone. */
  async kill9(): Promise<void> {
    if (!this.alive) return;
    this.killing = true;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful), SIGKILL after 12 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.killing = true;
    this.child!.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), 12_000);
    await this.exited;
    clearTimeout(t);
  }
}

/**
 * `n` replicas of the service on one database and one fake Graph API, as a deployment scales out:
 * the same environment but each its own port and log file (`app-<i>.log`), started together (their
 * start-ups race on creating the collections and indexes, as replicas' do). Resolves once all are
 * healthy, with each one's start-up time.
 */
export async function startReplicas(n: number, o: Omit<AppEnvOptions, 'port'> & { logDir: string }): Promise<{ apps: AppProcess[]; startupMs: number[] }> {
  const apps: AppProcess[] = [];
  for (let i = 0; i < n; i++) apps.push(new AppProcess(appEnv({ ...o, port: await freePort() }), path.join(o.logDir, `app-${i}.log`)));
  return { apps, startupMs: await Promise.all(apps.map((a) => a.start())) };
}
