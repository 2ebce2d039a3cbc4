import request from 'supertest';
import { createStaff, FAILURE_FLOOR_MS, updateStaff } from '../../src/staff/accounts';
import { clientKey } from '../../src/staff/loginGuard';
import { createHarness, type Harness } from '../support/harness';

/**
 * Probes of the staff login as an attacker runs them on a live instance: parallel guesses, a
 * flood from one address, and telling accounts apart by status, body or time.
 */
let h: Harness;
const PASSWORD = 'correct horse battery staple';
let ip = 0;
/** Each call from its own address (the app trusts one proxy hop: X-Forwarded-For), unless told. */
const login = (email: string, password: string, from = `10.9.${Math.floor(++ip / 250)}.${ip % 250}`) =>
  request(h.app).post('/staff/api/login').set('x-forwarded-for', from).send({ email, password });

beforeEach(async () => {
  h = await createHarness('seclogin');
  await createStaff(h.deps, null, { email: 'agent@acme.test', name: 'Agent', role: 'agent', password: PASSWORD });
});
afterEach(() => h.close());

it('30+ parallel wrong passwords lock the account; the right one is refused until the lock ends', async () => {
  const answers = await Promise.all(Array.from({ length: 32 }, (_, i) => login('agent@acme.test', `wrong guess ${i}`)));
  expect(answers.map((r) => r.status)).toEqual(Array(32).fill(401));
  const s = await h.deps.models.Staff.findOne({ email: 'agent@acme.test' }).lean();
  expect(s!.lockedUntil).not.toBeNull();
  expect(s!.failedLogins).toBeGreaterThanOrEqual(5);

  const refused = await login('agent@acme.test', PASSWORD);
  expect(refused.status).toBe(401);
  expect(refused.body).toEqual({ error: 'wrong email or password' });
  h.clock.advance(14 * 60_000);
  expect((await login('agent@acme.test', PASSWORD)).status).toBe(401);
  h.clock.advance(2 * 60_000);
  expect((await login('agent@acme.test', PASSWORD)).status).toBe(200);
  expect(await h.deps.models.Staff.findOne({ email: 'agent@acme.test' }).lean()).toMatchObject({ failedLogins: 0, locks: 0 });
});

it('after a lock ends one more wrong try locks again, for twice as long', async () => {
  for (let i = 0; i < 5; i++) await login('agent@acme.test', 'nope nope nope');
  const first = (await h.deps.models.Staff.findOne({ email: 'agent@acme.test' }).lean())!.lockedUntil!;
  h.clock.set(new Date(first.getTime() + 1000));
  expect((await login('agent@acme.test', 'still wrong')).status).toBe(401);
  const second = (await h.deps.models.Staff.findOne({ email: 'agent@acme.test' }).lean())!.lockedUntil!;
  expect(second.getTime() - (first.getTime() + 1000)).toBe(30 * 60_000);
});

it('unknown, wrong and locked answer alike in status and body, and their timing differs by less than the spread of either', async () => {
  await createStaff(h.deps, null, { email: 'locked@acme.test', name: 'L', role: 'viewer', password: PASSWORD });
  for (let i = 0; i < 6; i++) await login('locked@acme.test', 'wrong wrong wrong');
  const kinds = { unknown: 'nobody@acme.test', wrong: 'agent@acme.test', locked: 'locked@acme.test' } as const;
  const times: Record<string, number[]> = { unknown: [], wrong: [], locked: [] };
  const bodies = new Set<string>();
  for (let round = 0; round < 4; round++) {
    for (const [kind, email] of Object.entries(kinds)) {
      const t0 = process.hrtime.bigint();
      const r = await login(email, `guess ${round}`);
      times[kind].push(Number(process.hrtime.bigint() - t0) / 1e6);
      bodies.add(`${r.status} ${JSON.stringify(r.body)} ${r.headers['content-type']}`);
    }
    // The wrong-password account must not lock during the measurement.
    await h.deps.models.Staff.updateOne({ email: 'agent@acme.test' }, { $set: { failedLogins: 0 } });
  }
  expect([...bodies]).toEqual([`401 {"error":"wrong email or password"} application/json; charset=utf-8`]);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  for (const [a, b] of [
    ['unknown', 'wrong'],
    ['unknown', 'locked'],
    ['wrong', 'locked'],
  ]) {
    expect(Math.abs(median(times[a]) - median(times[b]))).toBeLessThanOrEqual(Math.max(spread(times[a]), spread(times[b])));
  }
  for (const xs of Object.values(times)) expect(Math.min(...xs)).toBeGreaterThanOrEqual(FAILURE_FLOOR_MS - 5);
});

it('a flood from one address is turned away before any password work, and the audit log is not flooded', async () => {
  const auditBefore = await h.deps.models.StaffAudit.countDocuments({});
  const statuses: number[] = [];
  const throttledMs: number[] = [];
  for (let i = 0; i < 40; i++) {
    const t0 = Date.now();
    const r = await login(`someone${i}@acme.test`, 'guess', '192.0.2.7');
    statuses.push(r.status);
    if (r.status === 429) {
      throttledMs.push(Date.now() - t0);
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
  }
  expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
  expect(statuses.slice(10)).toEqual(Array(30).fill(429));
  // A throttled answer comes back without waiting for a password check (failures wait FAILURE_FLOOR_MS).
  expect(Math.max(...throttledMs)).toBeLessThan(FAILURE_FLOOR_MS);
  // Failures on unknown accounts are counted as security events, not chained one by one.
  expect(await h.deps.models.StaffAudit.countDocuments({})).toBe(auditBefore);
  const metrics = (await request(h.app).get('/metrics')).text;
  expect(metrics).toMatch(/security_events_total\{event="staff_login_throttled"\} 30/);
  expect(metrics).toMatch(/security_events_total\{event="staff_login_failed"\} 10/);
  // Another address is not affected.
  expect((await login('agent@acme.test', PASSWORD, '192.0.2.8')).status).toBe(200);
});

it('attempts against one account from many addresses are capped per account too', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 55; i++) statuses.push((await login('ghost@acme.test', 'guess')).status);
  expect(statuses.filter((s) => s === 401)).toHaveLength(50);
  expect(statuses.slice(50)).toEqual(Array(5).fill(429));
});

it('with TRUST_PROXY=0 a forged X-Forwarded-For does not get around the per-address limit', async () => {
  await h.close();
  h = await createHarness('secloginproxy', { env: { TRUST_PROXY: '0' } });
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await login(`x${i}@acme.test`, 'guess')).status);
  expect(statuses.slice(10)).toEqual([429, 429]);
});

it('an IPv6 client is limited by its /64', () => {
  expect(clientKey('2001:db8:1:2:aaaa::1')).toBe(clientKey('2001:db8:1:2:ffff:1:2:3'));
  expect(clientKey('2001:db8:1:3::1')).not.toBe(clientKey('2001:db8:1:2::1'));
  expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
});

it('an admin lifts a lock; a lock that ended a day ago is forgotten (the doubling starts again)', async () => {
  for (let i = 0; i < 5; i++) await login('agent@acme.test', 'nope nope nope');
  expect((await login('agent@acme.test', PASSWORD)).status).toBe(401);
  await updateStaff(h.deps, null, 'agent@acme.test', { unlock: true });
  expect((await login('agent@acme.test', PASSWORD)).status).toBe(200);
  for (let i = 0; i < 5; i++) await login('agent@acme.test', 'nope nope nope');
  const s = await h.deps.models.Staff.findOne({ email: 'agent@acme.test' }).lean();
  h.clock.set(new Date(s!.lockedUntil!.getTime() + 86_400_000 + 1000));
  await login('agent@acme.test', 'nope again');
  expect(await h.deps.models.Staff.findOne({ email: 'agent@acme.test' }).lean()).toMatchObject({ lockedUntil: null, failedLogins: 1, locks: 0 });
});
