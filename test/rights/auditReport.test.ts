import { spawnSync } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { dueDate } from '../../src/rights/regimes';
import { auditReport } from '../../src/rights/auditReport';
import { renderAuditReportPdf } from '../../src/documents/reportPdf';
import { createStaff } from '../../src/staff/accounts';
import { createChatHarness, type ChatHarness } from '../support/chat';
import { TEST_KEYS, TestClock } from '../support/harness';
import { envelope, messagesChange, textMessage } from '../support/whatsapp';
import { ROOT } from '../support/proc';
import { pdfText } from '../support/pdf';

/**
 * The audit report (accountability, GDPR Art. 5(2)): a scripted set of requests, carried out in
 * the chat and recorded through the other channels, and the figures the report must give for it.
 */
const START = new Date('2026-11-02T09:00:00Z');
let h: ChatHarness;
beforeAll(async () => {
  h = await createChatHarness('report', { clock: new TestClock(START) });
  // Chat: an opt-out, an opt-in, an access and a confirmed erasure, an hour apart; and an erasure never confirmed.
  await h.say('15550070001', 'STOP');
  h.clock.advance(3600_000);
  await h.say('15550070002', 'START');
  h.clock.advance(3600_000);
  await h.say('15550070003', 'MY DATA');
  h.clock.advance(3600_000);
  await h.say('15550070004', 'DELETE');
  h.clock.advance(60_000);
  await h.press('15550070004', 'erase.yes');
  // A STOP older than the START that followed it: recorded, superseded, not answered.
  const ts = Math.floor(h.clock.now().getTime() / 1000);
  await h.say('15550070006', 'START');
  await h.post(envelope(messagesChange({ waId: '15550070006' }, [textMessage('STOP', { timestamp: ts - 30 })])));
  // Through the API, still open past its due date.
  const opened = new Date(START.getTime() + 2 * 86_400_000);
  const due = dueDate('erasure', opened);
  await h.deps.stores.requests.open({
    id: 'api-open-1',
    subscriberToken: 'tok-api2',
    type: 'erasure',
    channel: 'api',
    receivedAt: opened,
    dueAt: due.dueAt,
    regime: due.regime,
  });
  // Through the API, recorded closed two months after it was received: done, but late.
  const received = new Date(START.getTime() + 86_400_000);
  const late = dueDate('access', received);
  await h.deps.stores.requests.open(
    { id: 'api-late-1', subscriberToken: 'tok-api', type: 'access', channel: 'api', receivedAt: received, dueAt: late.dueAt, regime: late.regime },
    { state: 'done', outcome: 'answered by post', at: new Date(received.getTime() + 60 * 86_400_000) },
  );
  // Outside the period: not counted.
  await h.deps.stores.requests.open(
    { id: 'old-1', subscriberToken: 'tok-old', type: 'opt_out', channel: 'staff', receivedAt: new Date('2026-10-01T00:00:00Z'), dueAt: START, regime: 'x' },
    { state: 'done', outcome: 'x', at: new Date('2026-10-01T00:00:00Z') },
  );
  // Forty days on: the open one is past its due date.
  h.clock.advance(40 * 86_400_000);
});
afterAll(() => h.close());

const PERIOD = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') };

describe('the audit report', () => {
  it('counts the period’s requests by right, channel and state, and times them against their deadlines', async () => {
    const rep = await auditReport(h.deps.rights, { ...PERIOD, verifyChains: true });
    expect(rep.period).toEqual({ from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' });
    expect(rep.requests.total).toBe(8);
    expect(rep.requests.byType).toEqual({ opt_out: 2, opt_in: 2, access: 2, erasure: 2 });
    expect(rep.requests.byChannel).toEqual({ chat: 6, api: 2 });
    expect(rep.requests.byState).toEqual({ done: 7, open: 1 });
    expect(rep.requests.rows).toContainEqual({ type: 'erasure', channel: 'api', state: 'open', count: 1 });
    expect(rep.requests.rows).toContainEqual({ type: 'access', channel: 'api', state: 'done', count: 1 });

    const row = (type: string) => rep.fulfilment.filter((f) => f.type === type);
    // Carried out at once in the chat: zero hours, within the deadline.
    expect(row('opt_out')).toEqual([expect.objectContaining({ done: 2, withinDeadline: 2, late: 0 })]);
    expect(row('opt_out')[0].medianHours).toBe(0);
    // The superseded STOP arrived 30 s before it was handled: received is when the person wrote.
    expect(row('opt_out')[0].p95Hours).toBeCloseTo(30 / 3600, 3);
    expect(row('erasure')).toEqual([expect.objectContaining({ done: 1, withinDeadline: 1, late: 0 })]);
    expect(row('erasure')[0].medianHours).toBeCloseTo(1 / 60, 3); // confirmed a minute after it was asked
    // One access at once in the chat, one answered by post 60 days on.
    expect(row('access')).toEqual([expect.objectContaining({ done: 2, withinDeadline: 1, late: 1, medianHours: 0, p95Hours: 1440 })]);
    expect(rep.overdue).toEqual({ open: 1, closedLate: 1 });
    expect(rep.extended).toBe(0);

    // The STOP's confirmation was sent, and when; the superseded one had none to send.
    expect(rep.optOutConfirmations.optOuts).toBe(1);
    expect(rep.optOutConfirmations.confirmationsFound).toBe(1);
    expect(rep.optOutConfirmations.delaySeconds.median).toBeGreaterThanOrEqual(0);
    expect(rep.optOutConfirmations.delaySeconds.median).toBeLessThan(5);

    expect(rep.chains.verifiedNow).toBe(true);
    expect(rep.chains.ledger).toMatchObject({ ok: true });
    expect(rep.chains.audit).toMatchObject({ ok: true });
    // Pseudonymous: no number, no token.
    expect(JSON.stringify(rep)).not.toMatch(/1555007|tok-/);
  });

  it('an empty period reports zeros, not errors', async () => {
    const rep = await auditReport(h.deps.rights, { from: new Date('2025-01-01T00:00:00Z'), to: new Date('2025-02-01T00:00:00Z') });
    expect(rep.requests).toMatchObject({ total: 0, byType: {}, rows: [] });
    expect(rep.fulfilment).toEqual([]);
    expect(rep.optOutConfirmations).toEqual({ optOuts: 0, confirmationsFound: 0, delaySeconds: { median: null, p95: null, max: null } });
  });

  it('admins download it as CSV from the console; agents may not', async () => {
    const admin = await staffAgent('admin');
    const csv = await admin.get('/staff/api/report?from=2026-11-01&to=2026-12-01&format=csv').expect(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.headers['content-disposition']).toContain('audit-report-2026-11-01-2026-12-01.csv');
    expect(csv.text).toContain('requests,erasure,api,open,1');
    expect(csv.text).toContain('requests,all,all,all,8');
    expect(csv.text).toMatch(/^overdue,1,1,0$/m);
    const json = await admin.get('/staff/api/report?from=2026-11-01&to=2026-12-01').expect(200);
    expect(json.body.requests.total).toBe(8);
    await admin.get('/staff/api/report?from=2026-12-01&to=2026-11-01').expect(400);
    await admin.get('/staff/api/report?from=yesterday&to=2026-11-01').expect(400);
    await admin.get('/staff/api/report?from=2024-01-01&to=2026-11-01').expect(400); // more than a year
    const agent = await staffAgent('agent');
    await agent.get('/staff/api/report?from=2026-11-01&to=2026-12-01').expect(403);
    await agent.get('/staff/api/report?from=2026-11-01&to=2026-12-01&format=pdf').expect(403);
  });

  it('prints as a PDF with the same figures, in words a reader understands', async () => {
    const admin = await staffAgent('admin', 'printing-admin');
    const res = await admin
      .get('/staff/api/report?from=2026-11-01&to=2026-12-01&format=pdf')
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toContain('audit-report-2026-11-01-2026-12-01.pdf');
    const { text, info } = await pdfText(res.body as Buffer);
    expect(info.Title).toBe('Privacy rights audit report, 2026-11-01 to 2026-12-01 (UTC days, the second excluded)');
    expect(text).toContain('Requests: 8');
    expect(text).toContain('By right: Access 2 · Erasure 2 · Opt-in 2 · Opt-out 2');
    expect(text).toContain('By channel: Integration API 2 · Chat 6');
    // The table rows: the open API erasure, and the access done 60 days on and late.
    expect(text).toMatch(/Erasure Integration API Open 1/);
    expect(text).toMatch(/Access GDPR Art\. 12\(3\)[^]*? 2 0 min 60\.0 days 1 1 Erasure/);
    expect(text).toContain('Open past their due date now: 1');
    expect(text).toContain('Done after their due date: 1');
    expect(text).toMatch(/Rights ledger: intact, \d+ entries/);
    expect(text).toContain('page 1 of');
    expect(text).not.toMatch(/1555007|tok-/);
  });

  it('`npm run cli -- report` prints the same figures, as JSON or CSV', async () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, [path.join(ROOT, 'dist/cli/index.js'), 'report', ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, MONGODB_URI: h.db.uri, ...TEST_KEYS },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const json = run(['--from', '2026-11-01', '--to', '2026-12-01', '--verify']);
    expect(json.status).toBe(0);
    const rep = JSON.parse(json.stdout);
    expect(rep.requests.byType).toEqual({ opt_out: 2, opt_in: 2, access: 2, erasure: 2 });
    expect(rep.chains).toMatchObject({ verifiedNow: true, ledger: { ok: true } });
    const csv = run(['--from', '2026-11-01', '--to', '2026-12-01', '--format', 'csv']);
    expect(csv.status).toBe(0);
    expect(csv.stdout).toContain('fulfilment,type,regime,done,median hours,p95 hours,within deadline,late');
    const pdf = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli/index.js'), 'report', '--from', '2026-11-01', '--to', '2026-12-01', '--format', 'pdf'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, MONGODB_URI: h.db.uri, ...TEST_KEYS },
      timeout: 60_000,
    });
    expect(pdf.status).toBe(0);
    expect((await pdfText(pdf.stdout)).text).toContain('Requests: 8');
    expect(run(['--from', 'last-week']).status).toBe(2);
  });

  // Last: it breaks the ledger.
  it('a ledger that does not verify is the first thing the printed report says', async () => {
    const entry = await h.deps.models.Ledger.findOne({}).sort({ seq: 1 }).skip(2).lean();
    await h.deps.models.Ledger.updateOne({ _id: entry!._id }, { $set: { detail: 'rewritten' } });
    const rep = await auditReport(h.deps.rights, { ...PERIOD, verifyChains: true });
    const { pages } = await pdfText(await renderAuditReportPdf(rep, 'Acme'));
    const lines = pages[0].split('\n');
    expect(lines[0]).toBe('Privacy rights audit report');
    expect(lines.slice(1, 3).join(' ')).toContain(`Warning: the rights ledger does not verify: broken at entry #${entry!.seq}`);
    expect(pages.join('\n')).toMatch(new RegExp(`Rights ledger: BROKEN at entry #${entry!.seq}`));
  });
});

async function staffAgent(role: 'admin' | 'agent', as: string = role) {
  const who = { email: `${as}.report@acme.test`, name: `${role} person`, role, password: 'correct horse battery staple 42' };
  expect((await createStaff(h.deps, null, who)).kind).toBe('created');
  const agent = request.agent(h.app);
  await agent.post('/staff/api/login').send({ email: who.email, password: who.password }).expect(200);
  return agent;
}
