import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/**
 * The benchmark runs each measured server (and the database-heavy parts) in a child process, so
 * the load generator in the parent does not share its event loop. Parent and child talk over the
 * fork IPC channel: requests {id, cmd, args} answered by {id, ok, result | error}, plus
 * {event: 'progress', line} lines the parent prints.
 */
export interface ChildHandle<I = unknown> {
  proc: ChildProcess;
  /** What the child's init answered (e.g. the port it listens on). */
  info: I;
  call<T = unknown>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks the child to stop and waits for it to exit (kills it after a grace period). */
  stop(): Promise<void>;
}

type Reply = { id: number; ok: boolean; result?: unknown; error?: string };

export async function spawnChild<I = unknown>(
  mode: string,
  options: unknown,
  progress: (line: string) => void,
  execArgv: string[] = [],
): Promise<ChildHandle<I>> {
  // BENCH_CPU_PROFILE_DIR: V8 CPU profiles of the measured servers (open them in Chrome DevTools).
  const profDir = process.env.BENCH_CPU_PROFILE_DIR;
  const prof =
    profDir && ['app', 'bare', 'peer'].includes(mode)
      ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profDir)}`, `--cpu-prof-name=${mode}-${Date.now()}.cpuprofile`]
      : [];
  const proc = fork(path.join(__dirname, '..', 'child.js'), [mode], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...execArgv, ...prof],
    env: { ...process.env, BENCH_CHILD_OPTIONS: JSON.stringify(options) },
  });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let seq = 0;
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    proc.once('exit', (code, signal) => {
      exited = true;
      for (const w of waiting.values()) {
        clearTimeout(w.timer);
        w.reject(new Error(`child ${mode} exited (${code ?? signal}) before answering`));
      }
      waiting.clear();
      resolve();
    }),
  );
  proc.on('message', (m: Reply | { event: string; line?: string }) => {
    if ('event' in m) {
      if (m.event === 'progress' && m.line) progress(m.line);
      return;
    }
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    clearTimeout(w.timer);
    if (m.ok) w.resolve(m.result);
    else w.reject(new Error(`child ${mode}: ${m.error}`));
  });
  const call = <T>(cmd: string, args?: unknown, timeoutMs = 15 * 60_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error(`child ${mode} has exited`));
      const id = ++seq;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`child ${mode}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      proc.send({ id, cmd, args });
    });
  const handle: ChildHandle<I> = {
    proc,
    info: undefined as I,
    call,
    async stop() {
      if (exited) return;
      await call('stop', undefined, 20_000).catch(() => undefined);
      const timer = setTimeout(() => {
        if (!exited && proc.pid) process.kill(proc.pid, 'SIGKILL');
      }, 10_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
  handle.info = await call<I>('init', undefined, 120_000);
  return handle;
}

/** Child side: registers the command handlers and answers the parent. */
export function serveParent(handlers: Record<string, (args: unknown) => Promise<unknown> | unknown>): void {
  process.on('message', async (m: { id: number; cmd: string; args?: unknown }) => {
    const h = handlers[m.cmd];
    try {
      if (!h) throw new Error(`unknown command ${m.cmd}`);
      const result = await h(m.args);
      process.send?.({ id: m.id, ok: true, result });
    } catch (err) {
      process.send?.({ id: m.id, ok: false, error: (err as Error).stack ?? String(err) });
    }
  });
  // The parent going away ends the child too (no orphans).
  process.on('disconnect', () => process.exit(0));
}

export function progress(line: string): void {
  process.send?.({ event: 'progress', line });
}
