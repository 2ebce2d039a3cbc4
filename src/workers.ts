import type { Deps } from './deps';

export interface Workers {
  stop(): Promise<void>;
}

/** Background loops of this process (inbox, outbox, erasure jobs, retention). */
export function startWorkers(_deps: Deps): Workers {
  return { async stop() {} };
}
