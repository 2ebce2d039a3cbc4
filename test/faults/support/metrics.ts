/**
 * A replica's own counters, read from its /metrics (Prometheus text format, src/lib/metrics.ts):
 * the only place that says which process did a piece of work, since the database records none.
 */
import http from 'node:http';
import type { AppProcess } from './appProcess';

/** `name{labels}` → value for every counter sample; null when the process does not answer. */
export function scrapeCounters(baseUrl: string, timeoutMs = 2000): Promise<Record<string, number> | null> {
  return new Promise((resolve) => {
    const req = http.get(`${baseUrl}/metrics`, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(null);
        const out: Record<string, number> = {};
        for (const line of text.split('\n')) {
          const m = /^(\w+_total(?:\{[^}]*\})?) (\S+)$/.exec(line);
          if (m) out[m[1]] = Number(m[2]);
        }
        resolve(out);
      });
      res.on('error', () => resolve(null));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
  });
}

/**
 * The counters of every life of every replica, scraped every `everyMs`: a life's counters die with
 * it (kill -9), so the last scrape before the end stands for it (the work of its last moment is
 * missed). `scrapeNow()` right before a kill narrows that gap.
 */
export class WorkShare {
  /** pid → the replica's index and its last counters. */
  readonly lives = new Map<number, { replica: number; counters: Record<string, number> }>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly apps: AppProcess[]) {}

  start(everyMs = 1000): void {
    this.timer = setInterval(() => void this.scrapeNow(), everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async scrapeNow(): Promise<void> {
    await Promise.all(
      this.apps.map(async (app, replica) => {
        const pid = app.pid;
        if (!app.alive) return;
        const counters = await scrapeCounters(app.url);
        if (counters) this.lives.set(pid, { replica, counters });
      }),
    );
  }

  /** Per replica (all its lives summed) and per life: the named counters. */
  summary(names: Record<string, string>): { perReplica: Record<string, number>[]; perLife: Record<string, number>[] } {
    const pick = (c: Record<string, number>) => Object.fromEntries(Object.entries(names).map(([label, key]) => [label, c[key] ?? 0]));
    const perReplica = this.apps.map(() => pick({}));
    const perLife: Record<string, number>[] = [];
    for (const [pid, { replica, counters }] of this.lives) {
      const p = pick(counters);
      perLife.push({ replica, pid, ...p });
      for (const k of Object.keys(p)) perReplica[replica][k] += p[k];
    }
    return { perReplica, perLife };
  }
}
