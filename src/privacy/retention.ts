import type { Deps } from '../deps';
import { ledgerChain } from '../rights/ledger';
import { cutChain } from './chain';

export interface SweepReport {
  messages: number;
  inbox: number;
  outbox: number;
  exports: number;
  erasureJobs: number;
  requests: number;
  ledger: number;
  staffSessions: number;
}

const DAY = 86_400_000;

/**
 * Retention, enforced by a periodic sweep rather than TTL indexes (FerretDB v1 has none, and a
 * sweep can apply rules TTL cannot, such as "90 days after the person's last activity").
 * - conversation messages: RETENTION_MESSAGES_DAYS after the subscriber's last activity;
 * - processed inbox items and finished outbox items: RETENTION_INBOX_DAYS;
 * - exports: when they expire (7 days);
 * - the pseudonymous request records and ledger: RETENTION_LEDGER_DAYS. The ledger is cut from
 *   its start, and the cut is remembered as a checkpoint so verification still holds.
 */
export async function sweepRetention(deps: Deps): Promise<SweepReport> {
  const m = deps.models;
  const now = deps.clock.now().getTime();
  const r = deps.config.retention;
  const messagesCutoff = new Date(now - r.messagesDays * DAY);
  const inboxCutoff = new Date(now - r.inboxDays * DAY);
  const ledgerCutoff = new Date(now - r.ledgerDays * DAY);

  let messages = 0;
  const idle = m.Subscriber.find({ lastActivityAt: { $lt: messagesCutoff } }, { _id: 1 }).lean().cursor();
  for await (const s of idle) messages += (await m.Message.deleteMany({ subscriberId: s._id })).deletedCount;

  const inbox = (await m.Inbox.deleteMany({ state: { $in: ['done', 'ignored', 'failed', 'erased'] }, receivedAt: { $lt: inboxCutoff } })).deletedCount;
  const outbox = (await m.Outbox.deleteMany({ state: { $in: ['sent', 'delivered', 'read', 'failed'] }, createdAt: { $lt: inboxCutoff } })).deletedCount;
  const exports = (await m.Export.deleteMany({ expiresAt: { $lt: new Date(now) } })).deletedCount;
  const erasureJobs = (await m.ErasureJob.deleteMany({ state: 'done', startedAt: { $lt: inboxCutoff } })).deletedCount;
  const requests = (await m.Request.deleteMany({ state: { $ne: 'open' }, receivedAt: { $lt: ledgerCutoff } })).deletedCount;
  // Expired staff sessions: already refused at use, removed so a dump holds no stale ones.
  const staffSessions = (await m.StaffSession.deleteMany({ expiresAt: { $lt: new Date(now) } })).deletedCount;

  // The ledger is cut from its start; the checkpoint keeps what remains verifiable.
  const ledger = await cutChain(deps, ledgerChain(deps), ledgerCutoff);
  const report = { messages, inbox, outbox, exports, erasureJobs, requests, ledger, staffSessions };
  if (Object.values(report).some((n) => n > 0)) deps.log.child({ module: 'retention' }).info(report, 'retention sweep');
  return report;
}
