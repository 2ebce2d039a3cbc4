import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createStaff, updateStaff } from '../../src/staff/accounts';
import { MAX_STREAMS_PER_SESSION, SESSION_RECHECK_MS } from '../../src/staff/router';
import { sweepRetention } from '../../src/maintenance/sweepRetention';
import { createHarness, type Harness } from '../support/harness';

/**
 * The live view (server-sent events) after the session that opened it ends: logout, a disabled
 * account or a changed role must end the stream within seconds, and streams are capped.
 */
let h: Harness;
let server: http.Server;
let base: string;
const PASSWORD = 'correct horse battery staple';

beforeEach(async () => {
  h = await createHarness('secsessions');
  server = h.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await createStaff(h.deps, null, { email: 'agent@acme.test', name: 'Agent', role: 'agent', password: PASSWORD });
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await h.close();
});

async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const r = await fetch(`${base}/staff/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'agent@acme.test', password: PASSWORD }),
  });
  expect(r.status).toBe(200);
  return { cookie: r.headers.get('set-cookie')!.split(';')[0], csrf: ((await r.json()) as { csrf: string }).csrf };
}

/** Opens a stream; resolves `ended` with the time it ended (or never). */
function openStream(cookie: string): Promise<{ status: number; ended: Promise<number>; text: () => string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/staff/api/events`, { headers: { cookie } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      const ended = new Promise<number>((r) => res.on('end', () => r(Date.now())));
      resolve({ status: res.statusCode ?? 0, ended, text: () => text });
    });
    req.on('error', reject);
  });
}

const within = (p: Promise<number>, ms: number) =>
  Promise.race([p, new Promise<number>((_, rej) => setTimeout(() => rej(new Error(`stream still open after ${ms} ms`)), ms))]);

it.each([
  [
    'logout',
    async (s: { cookie: string; csrf: string }) =>
      void (await fetch(`${base}/staff/api/logout`, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } })),
  ],
  ['the account disabled', async () => void (await updateStaff(h.deps, null, 'agent@acme.test', { disabled: true }))],
  ['a role change', async () => void (await updateStaff(h.deps, null, 'agent@acme.test', { role: 'viewer' }))],
])('a live stream ends within 5 s of %s', async (_what, end) => {
  const s = await signIn();
  const stream = await openStream(s.cookie);
  expect(stream.status).toBe(200);
  const t0 = Date.now();
  await end(s);
  const endedAt = await within(stream.ended, 5000);
  expect(endedAt - t0).toBeLessThanOrEqual(SESSION_RECHECK_MS + 1500);
  expect(stream.text()).toContain('"type":"ended"');
});

it('streams are capped per session', async () => {
  const s = await signIn();
  const open = [];
  for (let i = 0; i < MAX_STREAMS_PER_SESSION; i++) open.push(await openStream(s.cookie));
  expect(open.map((o) => o.status)).toEqual(Array(MAX_STREAMS_PER_SESSION).fill(200));
  expect((await openStream(s.cookie)).status).toBe(429);
  // Another session is not affected.
  expect((await openStream((await signIn()).cookie)).status).toBe(200);
});

it('expired sessions are swept, and refused until then', async () => {
  const s = await signIn();
  h.clock.advance(13 * 3600_000);
  expect((await fetch(`${base}/staff/api/me`, { headers: { cookie: s.cookie } })).status).toBe(401);
  expect((await sweepRetention(h.deps)).staffSessions).toBe(1);
  expect(await h.deps.models.StaffSession.countDocuments({})).toBe(0);
});

it('a client that hangs up at once, or sends a body with its GET, does not keep a stream slot', async () => {
  const s = await signIn();
  const { port } = server.address() as AddressInfo;
  for (let i = 0; i < 5; i++) {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write(`GET /staff/api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${s.cookie}\r\n\r\n`);
    sock.destroy();
  }
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve) => {
      const req = http.request(`${base}/staff/api/events`, { method: 'GET', headers: { cookie: s.cookie, 'content-type': 'application/json' } }, (res) => {
        res.destroy();
        resolve();
      });
      req.end('{}');
    });
  }
  await new Promise((r) => setTimeout(r, 300));
  const streams = [];
  for (let i = 0; i < MAX_STREAMS_PER_SESSION; i++) streams.push((await openStream(s.cookie)).status);
  expect(streams).toEqual(Array(MAX_STREAMS_PER_SESSION).fill(200));
});
