import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { login } from '../../src/staff/accounts';
import { createChatHarness, type ChatHarness } from '../support/chat';
import { TEST_KEYS } from '../support/harness';
import { ROOT } from '../support/proc';

/** The operator CLI as a real process (dist/cli/index.js) against this test's database. */
let h: ChatHarness;
beforeAll(async () => {
  h = await createChatHarness('cli');
});
afterAll(() => h.close());

function cli(args: string[], input = '') {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli/index.js'), ...args], {
    cwd: ROOT,
    input,
    env: { PATH: process.env.PATH, MONGODB_URI: h.db.uri, ...TEST_KEYS },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

it('staff-add creates the first admin with the password from stdin, who can then log in', async () => {
  const r = cli(['staff-add', '--email', 'Boss@Acme.test', '--role', 'admin', '--name', 'Boss'], 'a long enough password\n');
  expect(r).toMatchObject({ code: 0, out: 'created boss@acme.test (admin)\n' });
  expect((await login(h.deps, 'boss@acme.test', 'a long enough password')).kind).toBe('ok');
  expect(cli(['staff-add', '--email', 'boss@acme.test', '--role', 'admin'], 'a long enough password\n').code).toBe(1);
  expect(cli(['staff-add', '--email', 'short@acme.test', '--role', 'admin'], 'short\n').err).toMatch(/at least 12/);
});

it('staff-set changes a role and disables an account; staff-list shows it', async () => {
  cli(['staff-add', '--email', 'temp@acme.test', '--role', 'viewer'], 'another long password\n');
  expect(cli(['staff-set', '--email', 'temp@acme.test', '--role', 'agent', '--disable']).code).toBe(0);
  expect(cli(['staff-list']).out).toContain('temp@acme.test\tagent\tdisabled');
  expect((await login(h.deps, 'temp@acme.test', 'another long password')).kind).toBe('invalid');
});

it('verify-ledger says intact (exit 0), and names the first broken entry after tampering (exit 1)', async () => {
  await h.say('15550600001', 'STOP');
  expect(cli(['verify-ledger'])).toMatchObject({ code: 0, out: expect.stringMatching(/^ledger intact: \d+ entries verified/) });
  await h.db.conn.db!.collection('ledger').updateOne({ seq: 2 }, { $set: { event: 'opt_out.cancelled' } });
  expect(cli(['verify-ledger'])).toMatchObject({ code: 1, out: expect.stringContaining('ledger BROKEN at entry #2') });
});

it('rotate-keys re-encrypts under the first key of PII_ENCRYPTION_KEYS', () => {
  const k2 = `k9:${Buffer.alloc(32, 5).toString('base64')}`;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli/index.js'), 'rotate-keys'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, MONGODB_URI: h.db.uri, PII_ENCRYPTION_KEYS: `${k2},${TEST_KEYS.PII_ENCRYPTION_KEYS}`, PII_HMAC_KEY: TEST_KEYS.PII_HMAC_KEY },
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/active key k9: \d+ values re-encrypted, 0 under other keys remain/);
});

it('an unknown command prints the usage and exits 2', () => {
  const r = cli(['nope']);
  expect(r.code).toBe(2);
  expect(r.err).toContain('usage: npm run cli');
});
