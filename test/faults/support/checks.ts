/**
 * The exactly-once check of a conversation run: read-only queries of the service's database (with
 * its own models and keys) against what the driver posted and what the fake Graph API saw.
 */
import type { Models } from '../../../src/store/models';
import { GENESIS } from '../../../src/store/chain';
import { ledgerEntryHash } from '../../../src/store/ledgerStore';
import type { FakeGraph } from '../../support/fakeGraph';
import type { ConversationDriver } from './conversationDriver';
import { graphDeliveries, type Delivery } from './graphDeliveries';
import type { Inspector } from './inspector';
import { percentile } from './report';

/**
 * How long work caught by a kill waited: inbox items claimed more than once (received → done) and
 * outbox items with more than one attempt (queued → sent).
 */
export async function reclaimLatency(m: Models): Promise<Record<string, unknown>> {
  const inbox = await m.Inbox.find({ attempts: { $gt: 1 } }, { receivedAt: 1, processedAt: 1 }).lean();
  const outbox = await m.Outbox.find({ attempts: { $gt: 1 } }, { createdAt: 1, sentAt: 1 }).lean();
  const inMs = inbox.filter((d) => d.processedAt).map((d) => d.processedAt!.getTime() - d.receivedAt.getTime());
  const outMs = outbox.filter((d) => d.sentAt).map((d) => d.sentAt!.getTime() - d.createdAt.getTime());
  const all = await m.Inbox.find({ attempts: 1, state: 'done' }, { receivedAt: 1, processedAt: 1 }).lean();
  const normal = all.filter((d) => d.processedAt).map((d) => d.processedAt!.getTime() - d.receivedAt.getTime());
  return {
    inboxItemsClaimedAgainAfterAKill: { n: inMs.length, receivedToDoneMs: { p50: percentile(inMs, 50), max: inMs.length ? Math.max(...inMs) : 0 } },
    inboxItemsClaimedOnce: {
      n: normal.length,
      receivedToDoneMs: { p50: percentile(normal, 50), p99: percentile(normal, 99), max: normal.length ? Math.max(...normal) : 0 },
    },
    outboxItemsSentAgainAfterAKill: { n: outMs.length, queuedToSentMs: { p50: percentile(outMs, 50), max: outMs.length ? Math.max(...outMs) : 0 } },
  };
}

/** Deliveries first stored by an attempt that got no answer (killed mid-request), acknowledged by a later one. */
export async function storedBeforeAcknowledged(m: Models, driver: ConversationDriver): Promise<number> {
  const multi = driver.messages.filter((x) => x.ackedAt && x.attempts.length > 1);
  if (multi.length === 0) return 0;
  const docs = await m.Inbox.find({ _id: { $in: multi.map((x) => x.key) } }, { receivedAt: 1 }).lean();
  const at = new Map(docs.map((d) => [String(d._id), d.receivedAt.getTime()]));
  return multi.filter((x) => (at.get(x.key) ?? Infinity) < x.attempts[x.attempts.length - 1].startedAt).length;
}

export interface ConversationCheck {
  posted: number;
  acknowledged: number;
  neverAcknowledged: string[];
  postAttempts: number;
  nonOkResponses: Record<string, number>;
  inboxNotDone: { id: string; state: string; attempts: number; lastError: string | null }[];
  inboxMissing: string[];
  inboxUnexpected: string[];
  inboundMessageMissing: string[];
  inboxReclaimed: number;
  consentWrong: { waId: string; expected: string; actual: string; lastKeywords: string[] }[];
  lastKeywordStop: number;
  lastKeywordStart: number;
  outboxNotSent: { id: string; state: string; attempts: number; error: unknown }[];
  outboxReclaimedOrRetried: number;
  repliesMissingFromOutbox: string[];
  graphDelivered: number;
  graphNeverDelivered: string[];
  graphDuplicates: { key: string; times: number; firstAt: number; gapsMs: number[] }[];
  graphUnexpected: string[];
  graphWrongRecipient: string[];
  orderViolations: { waId: string; expected: string[]; seen: string[] }[];
  ledger: { entries: number; ok: boolean; broken?: string };
}

/** Every acknowledged message processed once, consent as the last keyword says, every reply sent once. */
export async function checkConversations(ins: Inspector, driver: ConversationDriver, fake: FakeGraph): Promise<ConversationCheck> {
  const { models: m, pii } = ins;
  const msgs = driver.messages;
  const acked = msgs.filter((x) => x.ackedAt);
  const nonOk: Record<string, number> = {};
  for (const r of driver.responses) {
    if (r.status === 200) continue;
    const k = r.status ? String(r.status) : (r.error ?? 'no answer');
    nonOk[k] = (nonOk[k] ?? 0) + 1;
  }

  const inbox = await m.Inbox.find({}, { _id: 1, state: 1, attempts: 1, lastError: 1 }).lean();
  const inboxById = new Map(inbox.map((d) => [String(d._id), d]));
  const inboxMissing = acked.filter((x) => !inboxById.has(x.key)).map((x) => x.id);
  const inboxNotDone = inbox
    .filter((d) => d.state !== 'done')
    .map((d) => ({ id: String(d._id), state: d.state, attempts: d.attempts ?? 0, lastError: d.lastError ?? null }));
  const posted = new Set(msgs.map((x) => x.key));
  const inboxUnexpected = inbox.filter((d) => !posted.has(String(d._id))).map((d) => String(d._id));
  const inbound = await m.Message.find({ direction: 'in' }, { _id: 1 }).lean();
  const inboundIds = new Set(inbound.map((d) => String(d._id)));
  const inboundMessageMissing = acked.filter((x) => !inboundIds.has(x.key)).map((x) => x.id);

  // Consent: the subscriber's last STOP/START decides; the strict reading (their last message is a STOP
  // or a START) is the same check restricted to those subscribers.
  const consentWrong: ConversationCheck['consentWrong'] = [];
  let lastKeywordStop = 0;
  let lastKeywordStart = 0;
  for (const waId of driver.waIds()) {
    const own = acked.filter((x) => x.waId === waId).sort((a, b) => a.seq - b.seq);
    if (own.length === 0) continue;
    const last = own[own.length - 1].keyword;
    if (last === 'STOP') lastKeywordStop += 1;
    if (last === 'START') lastKeywordStart += 1;
    const lastConsent = [...own].reverse().find((x) => x.keyword === 'STOP' || x.keyword === 'START');
    const expected = !lastConsent ? 'none' : lastConsent.keyword === 'STOP' ? 'opted_out' : 'opted_in';
    const s = await m.Subscriber.findOne({ key: pii.blindIndex(`wa:${waId}`) }, { consent: 1 }).lean();
    const actual = s?.consent ?? '(no subscriber)';
    if (actual !== expected) consentWrong.push({ waId, expected, actual, lastKeywords: own.slice(-4).map((x) => `${x.seq}:${x.keyword}`) });
  }

  const outbox = await m.Outbox.find({}, { _id: 1, state: 1, attempts: 1, error: 1 }).lean();
  const outboxNotSent = outbox.filter((d) => d.state !== 'sent').map((d) => ({ id: String(d._id), state: d.state, attempts: d.attempts ?? 0, error: d.error }));
  const outboxIds = new Set(outbox.map((d) => String(d._id)));
  // Each of these keywords is answered with exactly one message, keyed `<inbox id>:0`.
  const repliesMissingFromOutbox = acked.filter((x) => !outboxIds.has(`${x.key}:0`)).map((x) => x.id);

  const deliveries = graphDeliveries(fake);
  const byKey = new Map<string, Delivery[]>();
  for (const d of deliveries) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
  const graphNeverDelivered = [...outboxIds].filter((id) => !byKey.has(id));
  const graphDuplicates = [...byKey.entries()]
    .filter(([, ds]) => ds.length > 1)
    .map(([key, ds]) => ({ key, times: ds.length, firstAt: ds[0].at, gapsMs: ds.slice(1).map((d) => d.at - ds[0].at) }));
  const graphUnexpected = [...byKey.keys()].filter((k) => !outboxIds.has(k));
  const waOf = new Map(msgs.map((x) => [x.key, x.waId]));
  const graphWrongRecipient = deliveries.filter((d) => waOf.get(d.key.replace(/:\d+$/, '')) !== d.to).map((d) => d.key);

  // Replies reach each subscriber in the order of their messages (first delivery of each key).
  const orderViolations: ConversationCheck['orderViolations'] = [];
  const firstSeen = new Map<string, string[]>();
  // Reply ids are `<inbox id>:<n>`; the inbox id is a keyed hash, so the sequence number comes from the driver.
  const seqByKey = new Map(msgs.map((x) => [x.key, x.seq]));
  const counted = new Set<string>();
  for (const d of [...deliveries].sort((a, b) => a.at - b.at)) {
    if (counted.has(d.key)) continue;
    counted.add(d.key);
    firstSeen.set(d.to, [...(firstSeen.get(d.to) ?? []), d.key]);
  }
  for (const [waId, seen] of firstSeen) {
    const seqOf = (k: string) => seqByKey.get(k.replace(/:\d+$/, '')) ?? -1;
    const sorted = [...seen].sort((a, b) => seqOf(a) - seqOf(b));
    if (sorted.join() !== seen.join()) orderViolations.push({ waId, expected: sorted, seen });
  }

  return {
    posted: msgs.length,
    acknowledged: acked.length,
    neverAcknowledged: msgs.filter((x) => !x.ackedAt).map((x) => x.id),
    postAttempts: driver.responses.length,
    nonOkResponses: nonOk,
    inboxNotDone,
    inboxMissing,
    inboxUnexpected,
    inboundMessageMissing,
    inboxReclaimed: await m.Inbox.countDocuments({ attempts: { $gt: 1 } }),
    consentWrong,
    lastKeywordStop,
    lastKeywordStart,
    outboxNotSent,
    outboxReclaimedOrRetried: await m.Outbox.countDocuments({ attempts: { $gt: 1 } }),
    repliesMissingFromOutbox,
    graphDelivered: deliveries.length,
    graphNeverDelivered,
    graphDuplicates,
    graphUnexpected,
    graphWrongRecipient,
    orderViolations,
    ledger: await checkLedger(m),
  };
}

/** The ledger chain still links after everything (entries in order, each hash matching). */
export async function checkLedger(m: Models): Promise<{ entries: number; ok: boolean; broken?: string }> {
  const entries = await m.Ledger.find({}).sort({ seq: 1 }).lean();
  let prev = GENESIS;
  let seq = 1;
  for (const e of entries) {
    const reason =
      e.seq !== seq
        ? `missing entry before ${e.seq}`
        : e.prevHash !== prev
          ? `link broken at ${e.seq}`
          : ledgerEntryHash(e) !== e.hash
            ? `content changed at ${e.seq}`
            : null;
    if (reason) return { entries: entries.length, ok: false, broken: reason };
    prev = e.hash;
    seq += 1;
  }
  return { entries: entries.length, ok: true };
}

/** Summary lines for a check, short lists truncated. */
export function summarise(c: ConversationCheck): Record<string, unknown> {
  const short = <T>(xs: T[]) => (xs.length > 5 ? [...xs.slice(0, 5), `… ${xs.length - 5} more`] : xs);
  return {
    posted: c.posted,
    acknowledged: c.acknowledged,
    neverAcknowledged: short(c.neverAcknowledged),
    postAttempts: c.postAttempts,
    nonOkResponses: c.nonOkResponses,
    inboxMissing: short(c.inboxMissing),
    inboxNotDone: short(c.inboxNotDone),
    inboxUnexpected: short(c.inboxUnexpected),
    inboundMessageMissing: short(c.inboundMessageMissing),
    inboxReclaimedAfterLease: c.inboxReclaimed,
    subscribersLastKeywordStop: c.lastKeywordStop,
    subscribersLastKeywordStart: c.lastKeywordStart,
    consentWrong: short(c.consentWrong),
    outboxNotSent: short(c.outboxNotSent),
    outboxItemsWithMoreThanOneAttempt: c.outboxReclaimedOrRetried,
    repliesMissingFromOutbox: short(c.repliesMissingFromOutbox),
    graphDelivered: c.graphDelivered,
    graphNeverDelivered: short(c.graphNeverDelivered),
    graphDuplicates: short(c.graphDuplicates),
    graphUnexpected: short(c.graphUnexpected),
    graphWrongRecipient: short(c.graphWrongRecipient),
    orderViolations: short(c.orderViolations),
    ledger: c.ledger,
  };
}

/**
 * What every conversation scenario must hold: each acknowledged message stored, processed once and
 * answered; consent as the last keyword says; replies delivered, to the right person, in order; the
 * ledger intact. `duplicatesChecked: false` when the scenario judges Graph duplicates itself.
 */
export function expectConversationsIntact(check: ConversationCheck, o: { duplicatesChecked?: boolean } = {}): void {
  expect(check.neverAcknowledged).toEqual([]);
  expect(check.inboxMissing).toEqual([]);
  expect(check.inboxNotDone).toEqual([]);
  expect(check.inboxUnexpected).toEqual([]);
  expect(check.inboundMessageMissing).toEqual([]);
  expect(check.consentWrong).toEqual([]);
  expect(check.repliesMissingFromOutbox).toEqual([]);
  expect(check.outboxNotSent).toEqual([]);
  expect(check.graphNeverDelivered).toEqual([]);
  if (o.duplicatesChecked !== false) expect(check.graphDuplicates).toEqual([]);
  expect(check.graphUnexpected).toEqual([]);
  expect(check.graphWrongRecipient).toEqual([]);
  expect(check.orderViolations).toEqual([]);
  expect(check.ledger.ok).toBe(true);
}
