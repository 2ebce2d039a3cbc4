import type { VerifyResult } from '../store/chain';
import type { RightsContext } from './context';

type Ctx = Pick<RightsContext, 'requests' | 'outbox' | 'ledger' | 'audit' | 'clock'>;

export interface AuditReport {
  period: { from: string; to: string };
  generatedAt: string;
  /** Every request received in the period, counted by right, channel and how it stands. */
  requests: { total: number; byType: Record<string, number>; byChannel: Record<string, number>; byState: Record<string, number>; rows: CountRow[] };
  /** Time to fulfil the requests done, against each regime's deadline. */
  fulfilment: FulfilmentRow[];
  /** Open past their due date now, and done after it. */
  overdue: { open: number; closedLate: number };
  /** The bot grants itself no extension (GDPR Art. 12(3) allows two more months): none is recorded. */
  extended: number;
  /** Opt-outs in the chat and when their confirmation was sent (while the outbox keeps it). */
  optOutConfirmations: { optOuts: number; confirmationsFound: number; delaySeconds: { median: number | null; p95: number | null; max: number | null } };
  /** The chains' verification: run now when asked, or the last one on record. */
  chains: { ledger: VerifyResult | null; audit: VerifyResult | null; verifiedNow: boolean };
}

export interface CountRow {
  type: string;
  channel: string;
  state: string;
  count: number;
}

export interface FulfilmentRow {
  type: string;
  regime: string;
  done: number;
  medianHours: number | null;
  p95Hours: number | null;
  withinDeadline: number;
  late: number;
}

/** The p-th percentile (nearest rank) of sorted values, or null for none. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round = (n: number | null, digits = 2) => (n === null ? null : Number(n.toFixed(digits)));
const tally = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

/** The longest period one report covers (a year and a day): the requests are read in one pass. */
export const REPORT_MAX_DAYS = 367;

/**
 * The report a data-protection officer hands an auditor (accountability, GDPR Art. 5(2)): what
 * was asked in a period, through which channel, how it ended, how fast against the legal
 * deadline, what is overdue, how quickly opt-outs were confirmed, and whether the tamper-evident
 * chains verify. Pseudonymous throughout: counts and times, no person.
 */
export async function auditReport(ctx: Ctx, r: { from: Date; to: Date; verifyChains?: boolean }): Promise<AuditReport> {
  const now = ctx.clock.now();
  const byType: Record<string, number> = {};
  const byChannel: Record<string, number> = {};
  const byState: Record<string, number> = {};
  const cells = new Map<string, CountRow>();
  const times = new Map<string, { type: string; regime: string; hours: number[]; within: number; late: number }>();
  let open = 0;
  let closedLate = 0;
  let total = 0;
  // Chat opt-outs that changed the person's consent (a superseded STOP is not answered): their
  // confirmation is the first reply their message queued (`<request id>:0`).
  const optOuts: { id: string; receivedAt: Date }[] = [];
  for await (const q of ctx.requests.receivedBetween(r.from, r.to)) {
    total += 1;
    if (q.type === 'opt_out' && q.channel === 'chat' && q.state === 'done' && String(q.outcome ?? '').startsWith('marketing consent withdrawn'))
      optOuts.push({ id: String(q._id), receivedAt: q.receivedAt });
    tally(byType, q.type);
    tally(byChannel, q.channel);
    tally(byState, q.state);
    const cell = `${q.type}|${q.channel}|${q.state}`;
    const row = cells.get(cell) ?? { type: q.type, channel: q.channel, state: q.state, count: 0 };
    row.count += 1;
    cells.set(cell, row);
    if (q.state === 'open' && q.dueAt < now) open += 1;
    if (q.state !== 'done' || !q.doneAt) continue;
    const key = `${q.type}|${q.regime}`;
    const t = times.get(key) ?? { type: q.type, regime: q.regime, hours: [], within: 0, late: 0 };
    t.hours.push((q.doneAt.getTime() - q.receivedAt.getTime()) / 3600_000);
    if (q.doneAt <= q.dueAt) t.within += 1;
    else {
      t.late += 1;
      closedLate += 1;
    }
    times.set(key, t);
  }
  const fulfilment = [...times.values()].map((t) => {
    const sorted = t.hours.sort((a, b) => a - b);
    return {
      type: t.type,
      regime: t.regime,
      done: sorted.length,
      medianHours: round(percentile(sorted, 50), 4),
      p95Hours: round(percentile(sorted, 95), 4),
      withinDeadline: t.within,
      late: t.late,
    };
  });

  const sent = await ctx.outbox.sentAtOf(optOuts.map((q) => `${q.id}:0`));
  const delays = optOuts
    .filter((q) => sent.has(`${q.id}:0`))
    .map((q) => (sent.get(`${q.id}:0`)!.getTime() - q.receivedAt.getTime()) / 1000)
    .sort((a, b) => a - b);

  const chains = r.verifyChains
    ? { ledger: await ctx.ledger.verify(), audit: await ctx.audit.verify(), verifiedNow: true }
    : { ledger: await ctx.ledger.lastVerification(), audit: await ctx.audit.lastVerification(), verifiedNow: false };
  return {
    period: { from: r.from.toISOString(), to: r.to.toISOString() },
    generatedAt: now.toISOString(),
    requests: {
      total,
      byType,
      byChannel,
      byState,
      rows: [...cells.values()].sort((a, b) => a.type.localeCompare(b.type) || a.channel.localeCompare(b.channel) || a.state.localeCompare(b.state)),
    },
    fulfilment: fulfilment.sort((a, b) => a.type.localeCompare(b.type) || a.regime.localeCompare(b.regime)),
    overdue: { open, closedLate },
    extended: 0,
    optOutConfirmations: {
      optOuts: optOuts.length,
      confirmationsFound: delays.length,
      delaySeconds: { median: round(percentile(delays, 50)), p95: round(percentile(delays, 95)), max: round(delays.at(-1) ?? null) },
    },
    chains,
  };
}

/** The same as CSV: one section per table, each with its header (a spreadsheet opens it as is). */
export function auditReportCsv(rep: AuditReport): string {
  const cell = (v: unknown) => {
    const raw = v === null || v === undefined ? '' : String(v);
    // A text a spreadsheet would run as a formula is kept as text (numbers, negative ones too, stay numbers).
    const s = typeof v === 'string' && /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const line = (vals: unknown[]) => vals.map(cell).join(',');
  const out: string[] = [];
  out.push(line(['report', 'from', 'to', 'generated']), line(['audit', rep.period.from, rep.period.to, rep.generatedAt]), '');
  out.push(line(['requests', 'type', 'channel', 'state', 'count']));
  for (const r of rep.requests.rows) out.push(line(['requests', r.type, r.channel, r.state, r.count]));
  out.push(line(['requests', 'all', 'all', 'all', rep.requests.total]), '');
  out.push(line(['fulfilment', 'type', 'regime', 'done', 'median hours', 'p95 hours', 'within deadline', 'late']));
  for (const f of rep.fulfilment) out.push(line(['fulfilment', f.type, f.regime, f.done, f.medianHours, f.p95Hours, f.withinDeadline, f.late]));
  out.push('');
  out.push(line(['overdue', 'open past due', 'closed late', 'extended']), line(['overdue', rep.overdue.open, rep.overdue.closedLate, rep.extended]), '');
  const c = rep.optOutConfirmations;
  out.push(line(['opt-out confirmations', 'opt-outs', 'confirmations found', 'median seconds', 'p95 seconds', 'max seconds']));
  out.push(line(['opt-out confirmations', c.optOuts, c.confirmationsFound, c.delaySeconds.median, c.delaySeconds.p95, c.delaySeconds.max]), '');
  out.push(line(['chains', 'chain', 'intact', 'entries', 'verified at', 'first broken', 'verified now']));
  for (const [name, v] of [
    ['ledger', rep.chains.ledger],
    ['audit', rep.chains.audit],
  ] as const)
    out.push(
      line(['chains', name, v ? v.ok : '', v ? v.entries : '', v ? new Date(v.at).toISOString() : 'never', v?.firstBroken?.seq ?? '', rep.chains.verifiedNow]),
    );
  return `${out.join('\n')}\n`;
}
