import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

/**
 * A server that must never outlive its owner, even one killed with SIGKILL, is started through
 * this bash wrapper: `exec` keeps the wrapper's pid for the server, and a watcher subshell polls
 * the owner's pipe (fd 3): EOF means the owner is gone, so it stops the server (TERM, then KILL
 * after 5 s); it leaves by itself as soon as the server has exited. bash for `read -t` (1 = EOF,
 * >128 = timeout). Usage: spawn('bash', ['-c', OWNED_BY_PARENT, binary, ...args], { stdio: ['pipe', …] }).
 */
export const OWNED_BY_PARENT = [
  'exec 3<&0',
  '( while kill -0 $$ 2>/dev/null; do',
  '    read -r -t 1 _ <&3; rc=$?',
  '    if [ $rc -ne 0 ] && [ $rc -le 128 ]; then',
  '      kill -TERM $$ 2>/dev/null; for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 $$ 2>/dev/null || exit 0; sleep 0.5; done',
  '      kill -KILL $$ 2>/dev/null; exit 0',
  '    fi',
  '  done ) &',
  'exec "$0" "$@" 3<&- </dev/null',
].join('\n');

/** Stops an owned server with `signal`, then SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopOwned(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = (s: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(child.pid, s);
    } catch {
      /* already gone */
    }
  };
  kill(signal);
  child.stdin?.end();
  const timer = setTimeout(() => kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
