import type { Deps } from '../deps';
import { EVENT_GIVE_UP_MS } from '../events/worker';

export interface SweepReport {
  messages: number;
  inbox: number;
  outbox: number;
  exports: number;
  erasureJobs: number;
  requests: number;
  ledger: number;
  staffSessions: number;
  events: number;
}

const DAY = 86_400_000;

/**
 * Retention, enforced by a periodic sweep rather than TTL indexes (FerretDB v1 has none, and a
 * sweep can apply rules TTL cannot, such as "90 days after the person's last activity").
 * - conversation messages: RETENTION_MESSAGES_DAYS after the subscriber's last activity;
 * - processed inbox items and finished outbox items: RETENTION_INBOX_DAYS;
 * - exports: when they expire (7 days);
 * - the delivery log of privacy events (no body, no person once delivered): RETENTION_LEDGER_DAYS,
 *   as it shows the other recipients were told (GDPR Art. 19);
 * - the pseudonymous request records and ledger: RETENTION_LEDGER_DAYS. The ledger is cut from
 *   its start, and the cut is remembered as a checkpoint so verification still holds.
 */
export async function sweepRetention(deps: Deps): Promise<SweepReport> {
  const st = deps.stores;
  const now = deps.clock.now().getTime();
  const r = deps.config.retention;
  const messagesCutoff = new Date(now - r.messagesDays * DAY);
  const inboxCutoff = new Date(now - r.inboxDays * DAY);
  const ledgerCutoff = new Date(now - r.ledgerDays * DAY);

  let messages = 0;
  for (
    let ids = await st.subscribers.idleIds(messagesCutoff, 500, null);
    ids.length;
    ids = await st.subscribers.idleIds(messagesCutoff, 500, ids[ids.length - 1])
  ) {
    for (const id of ids) messages += await st.conversation.removeAllOf(id);
  }

  // Queue items an older replica wrote without the `open` flag (a rolling deploy) are found again here.
  await st.inbox.markOpen();
  await st.outbox.markOpen();
  const inbox = await st.inbox.sweep(inboxCutoff);
  const outbox = await st.outbox.sweep(inboxCutoff);
  const exports = await st.exports.sweep(new Date(now));
  const erasureJobs = await st.erasureJobs.sweep(inboxCutoff);
  const requests = await st.requests.sweep(ledgerCutoff);
  const events = await st.events.sweep(ledgerCutoff, new Date(now - EVENT_GIVE_UP_MS));
  // Expired staff sessions: already refused at use, removed so a dump holds no stale ones.
  const staffSessions = await st.staff.sweepSessions(new Date(now));
  // Claims of items long finished (a claim matters only while its item is open).
  await st.claims.sweep(inboxCutoff);

  // The ledger is cut from its start; the checkpoint keeps what remains verifiable.
  const ledger = await st.ledger.chain.cut(ledgerCutoff);
  const report = { messages, inbox, outbox, exports, erasureJobs, requests, ledger, staffSessions, events };
  if (Object.values(report).some((n) => n > 0)) deps.log.child({ module: 'retention' }).info(report, 'retention sweep');
  return report;
}
