import mongoose, { Types, type Connection } from 'mongoose';
import type { Config } from '../../src/config';
import type { Deps } from '../../src/deps';
import type { Logger } from '../../src/lib/logger';
import { buildDeps } from '../../src/wiring';

/**
 * Where the database time goes: the driver's command monitoring, grouped by command, collection and
 * the filter's shape (field names and operators, never values). Evidence for the report.
 */
export interface CommandStat {
  command: string;
  count: number;
  totalMs: number;
  meanMs: number;
  maxMs: number;
  docs: number;
}

export interface CommandRecord {
  name: string;
  collection: string;
  filter: string;
  ms: number;
  docs?: number;
  /** Set for the workers' polling (see pollingKind): what is left is the work the messages cause. */
  polling?: string;
}

export interface CommandProfile {
  commands: number;
  totalMs: number;
  /** Every command, grouped by shape, slowest total first. */
  top: CommandStat[];
  /** The polling queries (pollingKind), grouped by shape. */
  polling?: { commands: number; totalMs: number; shapes: CommandStat[] };
  /** Everything else, grouped by shape, most frequent first (where the round trips go). */
  work?: { commands: number; totalMs: number; shapes: CommandStat[] };
}

function shapeOf(v: unknown): string {
  if (Array.isArray(v))
    return v.some((x) => x && typeof x === 'object' && !(x instanceof Types.ObjectId) && !(x as { _bsontype?: string })._bsontype)
      ? `[${v.map(shapeOf).join(', ')}]`
      : `[${v.length}]`;
  if (v instanceof Date) return '…';
  if (v instanceof Types.ObjectId || (v && typeof v === 'object' && (v as { _bsontype?: string })._bsontype)) return '…';
  if (v && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}: ${shapeOf(x)}`)
      .join(', ')}}`;
  return '…';
}

export function describeCommand(cmd: Record<string, unknown>, name: string): { collection: string; filter: string } {
  // getMore names its cursor, not its collection: grouped by collection, or every cursor is a shape of its own.
  if (name === 'getMore') return { collection: String(cmd.collection ?? ''), filter: '(next batch)' };
  const collection = String(cmd[name] ?? '');
  let filter: unknown;
  let extra = '';
  if (name === 'find') {
    filter = cmd.filter;
    if (cmd.sort) extra += ` sort ${JSON.stringify(cmd.sort instanceof Map ? Object.fromEntries(cmd.sort) : cmd.sort)}`;
    if (cmd.limit) extra += ` limit ${String(cmd.limit)}`;
  } else if (name === 'delete') filter = (cmd.deletes as { q: unknown }[])?.[0]?.q;
  else if (name === 'update') filter = (cmd.updates as { q: unknown }[])?.[0]?.q;
  else if (name === 'findAndModify') filter = cmd.query;
  else if (name === 'aggregate') filter = (cmd.pipeline as Record<string, unknown>[])?.[0]?.$match;
  else if (name === 'count') filter = cmd.query;
  else if (name === 'insert') return { collection, filter: `${(cmd.documents as unknown[])?.length ?? 0} doc(s)` };
  return { collection, filter: `${filter ? shapeOf(filter) : '{}'}${extra}` };
}

const keysOf = (o: unknown): string[] => (o instanceof Map ? [...o.keys()].map(String) : o && typeof o === 'object' && !Array.isArray(o) ? Object.keys(o) : []);

/** `{open: true}` (or, before it, `{state: {$in: [...]}}`) and nothing else: the open-items filter of src/store/inboxStore.ts and outboxStore.ts. */
function isOpenStateFilter(f: unknown): boolean {
  const k = keysOf(f);
  if (k.length === 1 && k[0] === 'open') return true;
  if (k.length !== 1 || k[0] !== 'state') return false;
  const v = f instanceof Map ? f.get('state') : (f as Record<string, unknown>).state;
  return keysOf(v).includes('$in');
}

/**
 * The workers' polling, which runs whether or not messages arrive: the inbox/outbox window reads
 * (`openItems`: find `{open: true}` sorted by order), their backlog counts (`backlog`:
 * countDocuments, an aggregate of `$match` + `$group`, or `count`), and the staff live feed's
 * newest-message read (find on messages sorted by at). Undefined for everything else.
 */
export function pollingKind(name: string, cmd: Record<string, unknown>): string | undefined {
  const collection = String(cmd[name] ?? '');
  const queue = collection === 'inbox' || collection === 'outbox';
  if (name === 'find' && queue && isOpenStateFilter(cmd.filter) && keysOf(cmd.sort).includes('order')) return `${collection} window read`;
  if (name === 'count' && queue && isOpenStateFilter(cmd.query)) return `${collection} backlog count`;
  if (name === 'aggregate' && queue) {
    const pipeline = (cmd.pipeline as Record<string, unknown>[] | undefined) ?? [];
    const counts = pipeline.some((st) => keysOf(st).some((k) => k === '$group' || k === '$count'));
    if (counts && isOpenStateFilter(pipeline[0]?.$match)) return `${collection} backlog count`;
  }
  if (name === 'find' && collection === 'messages' && keysOf(cmd.sort).includes('at') && keysOf(cmd.filter).length === 0) return 'live feed';
  return undefined;
}

export class CommandProfiler {
  private started = new Map<number, { name: string; collection: string; filter: string; polling?: string }>();
  records: CommandRecord[] | null = null;

  attach(conn: Connection): void {
    const client = conn.getClient();
    client.on('commandStarted', (e) => {
      if (!this.records) return;
      const cmd = e.command as Record<string, unknown>;
      this.started.set(e.requestId, { name: e.commandName, ...describeCommand(cmd, e.commandName), polling: pollingKind(e.commandName, cmd) });
    });
    client.on('commandSucceeded', (e) => {
      const s = this.started.get(e.requestId);
      if (!s) return;
      this.started.delete(e.requestId);
      const reply = e.reply as { n?: number; cursor?: { firstBatch?: unknown[] } };
      this.records?.push({ ...s, ms: e.duration, docs: reply?.n ?? reply?.cursor?.firstBatch?.length });
    });
    client.on('commandFailed', (e) => {
      const s = this.started.get(e.requestId);
      this.started.delete(e.requestId);
      if (s) this.records?.push({ ...s, filter: `${s.filter} FAILED`, ms: e.duration });
    });
  }

  start(): void {
    this.records = [];
  }

  /** Stops recording and returns the commands grouped: all, slowest total first; then polling and the rest apart. */
  stop(): CommandProfile {
    const records = this.records ?? [];
    this.records = null;
    const polling = summarizeCommands(
      records.filter((r) => r.polling),
      30,
      'count',
    );
    const work = summarizeCommands(
      records.filter((r) => !r.polling),
      40,
      'count',
    );
    return {
      ...summarizeCommands(records),
      polling: { commands: polling.commands, totalMs: polling.totalMs, shapes: polling.top },
      work: { commands: work.commands, totalMs: work.totalMs, shapes: work.top },
    };
  }

  /** Grouped view of what was recorded so far, without stopping. */
  snapshot(): { commands: number; totalMs: number; top: CommandStat[] } {
    return summarizeCommands(this.records ?? []);
  }
}

export function summarizeCommands(
  records: CommandRecord[],
  limit = 15,
  by: 'totalMs' | 'count' = 'totalMs',
): { commands: number; totalMs: number; top: CommandStat[] } {
  const byKind = new Map<string, { count: number; ms: number; maxMs: number; docs: number }>();
  for (const c of records) {
    const k = `${c.name} ${c.collection} ${c.filter}`;
    const e = byKind.get(k) ?? { count: 0, ms: 0, maxMs: 0, docs: 0 };
    e.count += 1;
    e.ms += c.ms;
    e.maxMs = Math.max(e.maxMs, c.ms);
    e.docs += c.docs ?? 0;
    byKind.set(k, e);
  }
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const top = [...byKind.entries()]
    .map(([command, e]) => ({ command, count: e.count, totalMs: r1(e.ms), meanMs: r1(e.ms / e.count), maxMs: r1(e.maxMs), docs: e.docs }))
    .sort((x, y) => (by === 'count' ? y.count - x.count || y.totalMs - x.totalMs : y.totalMs - x.totalMs))
    .slice(0, limit);
  return { commands: records.length, totalMs: r1(records.reduce((s, c) => s + c.ms, 0)), top };
}

/**
 * The dependencies src/runtime.ts openRuntime builds (src/wiring.ts buildDeps), on a connection
 * with the options of src/db/connection.ts plus command monitoring. Used where the report shows
 * which queries the time went to.
 */
export async function openProfiledDeps(config: Config, log: Logger): Promise<{ deps: Deps; profiler: CommandProfiler; close(): Promise<void> }> {
  const conn = mongoose.createConnection(config.mongodbUri!, {
    serverSelectionTimeoutMS: 10_000,
    autoIndex: false,
    autoCreate: false,
    maxPoolSize: 20,
    monitorCommands: true,
  });
  await conn.asPromise();
  const profiler = new CommandProfiler();
  profiler.attach(conn);
  const deps = await buildDeps({ config, log, conn });
  return { deps, profiler, close: () => conn.close() };
}
