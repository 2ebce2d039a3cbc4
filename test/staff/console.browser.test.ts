import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openRequest } from '../../src/rights/ledger';
import { createStaff } from '../../src/staff/accounts';
import { launchBrowser, requireBrowser, serve, until } from '../support/browser';
import { bodyText, createChatHarness, type ChatHarness } from '../support/chat';
import { envelope, messagesChange, signed, statusChange, textMessage } from '../support/whatsapp';

/**
 * The staff console in a real browser (Debian's chromium, headless) against the real app, workers
 * and database, with the fake Graph API: an agent signs in, opens a conversation, sees a new
 * WhatsApp message arrive live (server-sent events, no reload) and answers it; the answer reaches
 * the Graph API. A viewer sees only the actions GET /staff/api/me lists for its role. Leaves a
 * screenshot in artifacts/console.png (and docs/console.png when that is missing or
 * UPDATE_SCREENSHOTS=1).
 */
const ROOT = path.resolve(__dirname, '..', '..');
const AGENT = { email: 'agnes@acme.test', name: 'Agnes Agent', role: 'agent', password: 'correct horse battery staple' };
const VIEWER = { email: 'vic@acme.test', name: 'Vic Viewer', role: 'viewer', password: 'another long passphrase' };
const DANA = '15550002222';
const MINUTE = 60_000;
const DAY = 86_400_000;

requireBrowser();

describe('the staff console in a browser', () => {
  let h: ChatHarness;
  let server: Awaited<ReturnType<typeof serve>>;
  let base: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  /** A fresh browser profile (no cookies) on the test clock; script errors and CSP violations are collected. */
  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', timezoneId: 'UTC', acceptDownloads: false });
    // The app runs on the test clock; the browser shows "today" by the same clock (timers run normally).
    await context.clock.setFixedTime(h.clock.now());
    const p = await context.newPage();
    p.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    p.on('console', (m) => {
      // The 401s of /me before sign-in and of the wrong password are expected; anything else
      // (a script error, a CSP violation) is not.
      if (m.type() === 'error' && !/status of 401/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
    return p;
  }

  async function signIn(p: Page, who: { email: string; password: string }) {
    const login = p.getByRole('main').locator('form');
    await login.getByLabel('Email').fill(who.email);
    await login.getByLabel('Password').fill(who.password);
    await login.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('link', { name: 'Conversations' }).waitFor();
  }

  /** A WhatsApp text from `waId`, signed like Meta's, posted to the running server (not drained). */
  async function deliver(waId: string, text: string, name?: string) {
    const ts = Math.floor(h.clock.now().getTime() / 1000);
    const { raw, signature } = signed(envelope(messagesChange({ waId, name }, [textMessage(text, { timestamp: ts })])));
    const r = await fetch(`${base}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw });
    expect(r.status).toBe(200);
  }

  beforeAll(async () => {
    h = await createChatHarness('console', { env: { WHATSAPP_DISPLAY_NUMBER: '+15550001111' } });
    server = await serve(h.app);
    base = server.base;
    expect((await createStaff(h.deps, null, AGENT)).kind).toBe('created');

    // A few conversations so the list has something to show: an erasure request 27 days old (due
    // in 3 days; asked by email and recorded through the integration API, so it stays open, unlike a
    // DELETE in the chat never confirmed), then today's opt-out, access request, unclear opt-out and
    // Dana's question.
    await h.say('15550006666', 'hello', { name: 'Sam Rivera' });
    await openRequest(h.deps.rights, {
      id: 'api:sam-erasure',
      subscriberToken: h.deps.stores.subscribers.tokenOf({ waId: '15550006666' }),
      type: 'erasure',
      channel: 'api',
    });
    h.clock.advance(27 * DAY);
    await h.say('15550004444', 'STOP', { name: 'María López' });
    h.clock.advance(6 * MINUTE);
    await h.say('15550005555', 'MY DATA', { name: 'Lee Park' });
    h.clock.advance(5 * MINUTE);
    await h.say('15550007777', 'please cancel the marketing emails', { name: 'Priya Shah' });
    h.clock.advance(3 * MINUTE);
    const hint = await h.say(DANA, 'hello, where is my order?', { name: 'Dana Example' });
    expect(hint.length).toBeGreaterThan(0);
    // Meta reports the bot's answer as read.
    // (By Meta's message id, at the time of the test clock: an old status would be kept aside.)
    const sent = h.fake.delivered().at(-1)!;
    expect(String((sent.body as { to?: string }).to).replace(/^\+/, '')).toBe(DANA);
    expect(sent.messageId).toMatch(/^wamid\./);
    await h.post(envelope(statusChange({ id: sent.messageId!, status: 'read', recipientId: DANA, timestamp: Math.floor(h.clock.now().getTime() / 1000) })));
    expect(await h.deps.models.Outbox.countDocuments({ state: 'read' })).toBe(1);
    h.clock.advance(2 * MINUTE);
    // From here on the workers run by themselves, as in production (seeding above drained them).
    h.workers.start();

    browser = await launchBrowser();
    page = await newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close();
    await h?.close();
  });

  it('signs in, shows a new message live, sends a reply that reaches WhatsApp', async () => {
    await page.goto(`${base}/staff`);
    // No session yet: /me answers 401 and the sign-in form shows.
    const login = page.getByRole('main').locator('form');
    await login.getByLabel('Email').fill(AGENT.email);
    await login.getByLabel('Password').fill('not the password');
    await login.getByRole('button', { name: 'Sign in' }).click();
    await login.getByText('Wrong email or password.').waitFor();
    await login.getByLabel('Password').fill(AGENT.password);
    await login.getByRole('button', { name: 'Sign in' }).click();

    // Signed in as an agent: no admin tabs, the conversation list with masked numbers.
    await page.getByRole('link', { name: 'Conversations' }).waitFor();
    expect(await page.locator('#user-name').textContent()).toBe('Agnes Agent');
    expect(await page.locator('#user-role').textContent()).toBe('agent');
    expect(await page.getByRole('link', { name: 'Audit' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Staff' }).count()).toBe(0);
    const dana = page.getByRole('button', { name: /Dana Example/ });
    await dana.waitFor();
    const listText = await page.locator('#conv-list').innerText();
    expect(listText).toMatch(/\+1•+2222/);
    expect(listText).not.toContain(DANA);
    expect(listText).toContain('Opted out'); // María
    expect(listText).toContain('Erasure · 3 days left'); // Sam

    // Keyboard: focus the conversation and open it with Enter.
    await dana.focus();
    await page.keyboard.press('Enter');
    const thread = page.locator('#thread');
    await thread.getByText('hello, where is my order?').waitFor();
    await thread.getByText('Not understood: for a human').waitFor();
    await thread.getByText('✓ read').waitFor();
    expect(await page.locator('#reply-text').isEnabled()).toBe(true);
    await page.evaluate(() => Object.assign(window, { consoleNotReloaded: true }));

    // A new WhatsApp message arrives while the conversation is open: it appears without a reload.
    const news = 'It is order #1042, it has not arrived yet';
    await deliver(DANA, news, 'Dana Example');
    await thread.getByText(news).waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { consoleNotReloaded?: boolean }).consoleNotReloaded)).toBe(true);

    // The agent answers from the reply box; the fake Graph API receives exactly that text.
    const answer = 'Hi Dana, sorry for the wait: order #1042 left our warehouse yesterday and arrives tomorrow.';
    await page.getByLabel('Reply as staff').fill(answer);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const delivered = await until('the reply at the Graph API', () => h.fake.deliveredTo(DANA).find((b) => bodyText(b) === answer));
    expect(delivered.type).toBe('text');
    const mine = thread.locator('li.msg.out', { hasText: answer });
    await mine.waitFor();
    await mine.getByText('staff (you)').waitFor();
    await mine.getByText(/sent|delivered|read/).waitFor({ timeout: 10_000 });
    expect(await page.locator('#reply-text').inputValue()).toBe('');

    // The screenshot: the conversation open, as an agent sees it.
    await page.locator('#reply-text').blur();
    await page.mouse.move(0, 799);
    await page.locator('#toast').waitFor({ state: 'hidden', timeout: 10_000 });
    mkdirSync(path.join(ROOT, 'artifacts'), { recursive: true });
    const shot = path.join(ROOT, 'artifacts', 'console.png');
    await page.screenshot({ path: shot });
    const docs = path.join(ROOT, 'docs', 'console.png');
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(docs)) copyFileSync(shot, docs);

    expect(pageErrors).toEqual([]);
  }, 30_000);

  it('shows a viewer only the actions that /me lists for its role', async () => {
    expect((await createStaff(h.deps, null, VIEWER)).kind).toBe('created');
    pageErrors.length = 0;
    const p = await newPage();
    await p.goto(`${base}/staff`);
    await signIn(p, VIEWER);
    expect(await p.locator('#user-role').textContent()).toBe('viewer');
    // What the console went by: the server's table (src/staff/roles.ts) through /me.
    const me = await p.evaluate(async () => (await fetch('/staff/api/me')).json());
    expect(me.permissions).toEqual(['read']);

    // Priya's unclear opt-out: an agent gets "Mark as opt-out" on the message; a viewer reads only.
    await p.getByRole('button', { name: /Priya Shah/ }).click();
    const thread = p.locator('#thread');
    await thread.getByText('please cancel the marketing emails').waitFor();
    await thread.getByText('Maybe an opt-out (asked to confirm)').waitFor();
    expect(await p.locator('#reply-readonly').isVisible()).toBe(true);
    expect(await p.locator('#reply-form').isVisible()).toBe(false);
    expect(await p.locator('#thread-actions').isVisible()).toBe(false);
    for (const id of ['#act-reveal', '#act-pause', '#act-optout', '#act-export']) expect(await p.locator(id).isVisible()).toBe(false);
    expect(await thread.getByRole('button', { name: 'Mark as opt-out' }).count()).toBe(0);
    expect(await p.getByRole('link', { name: 'Audit' }).count()).toBe(0);
    expect(await p.getByRole('link', { name: 'Staff' }).count()).toBe(0);

    // The same viewer, with /me's list rewritten in the browser: the console follows the list, not
    // the role's name (the server would still refuse these calls; test/security/staffApi.test.ts).
    await p.route('**/staff/api/me', async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      await route.fulfill({ response, json: { ...body, permissions: [...body.permissions, 'export', 'opt_out', 'audit'] } });
    });
    await p.reload();
    await thread.getByText('please cancel the marketing emails').waitFor();
    expect(await p.locator('#user-role').textContent()).toBe('viewer');
    await p.locator('#act-export').waitFor({ timeout: 5_000 });
    expect(await p.locator('#act-optout').isVisible()).toBe(true);
    expect(await p.locator('#act-reveal').isVisible()).toBe(false);
    expect(await p.locator('#act-pause').isVisible()).toBe(false);
    expect(await p.locator('#reply-form').isVisible()).toBe(false);
    expect(await p.getByRole('link', { name: 'Audit' }).count()).toBe(1);
    expect(await p.getByRole('link', { name: 'Staff' }).count()).toBe(0);
    // The message's own button opens the confirmation (nothing is sent: it is cancelled).
    await thread.getByRole('button', { name: 'Mark as opt-out' }).click();
    const dialog = p.locator('#confirm-dialog');
    await dialog.getByText('Record an opt-out?').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });

    // The requests page: whose each is, and no column of actions a viewer cannot take.
    await p.getByRole('link', { name: 'Requests', exact: true }).click();
    await p.locator('#req-rows').getByText('Sam Rivera').waitFor();
    expect(await p.locator('#req-actions-col').isVisible()).toBe(false);
    expect(await p.locator('#req-rows').getByRole('button').count()).toBe(0);

    await p.context().close();
    expect(pageErrors).toEqual([]);
  }, 30_000);

  it('shows an admin the audit report for a period and the event deliveries, with downloads', async () => {
    const ADMIN = { email: 'ada@acme.test', name: 'Ada Admin', role: 'admin', password: 'a long admin passphrase' };
    expect((await createStaff(h.deps, null, ADMIN)).kind).toBe('created');
    pageErrors.length = 0;
    const p = await newPage();
    await p.goto(`${base}/staff`);
    await signIn(p, ADMIN);
    await p.getByRole('link', { name: 'Audit' }).click();
    await p.getByRole('heading', { name: 'Audit report' }).waitFor();
    // The last 30 days by default, by the same clock as the app.
    expect(await p.locator('#report-to').inputValue()).toBe(new Date(h.clock.now().getTime() + DAY).toISOString().slice(0, 10));
    expect(await p.locator('#report-csv').getAttribute('href')).toContain(`to=`);
    await p.locator('#report-from').fill('2026-11-01');
    await p.getByRole('button', { name: 'Show' }).click();
    const summary = p.locator('#report-summary');
    // The seeded conversations: an erasure, an opt-out, an access, within the period.
    await summary.getByText('Requests').waitFor();
    const text = (await summary.textContent()) ?? '';
    expect(text).toMatch(/opt_out 1/);
    expect(text).toMatch(/access 1/);
    expect(text).toMatch(/erasure 1/);
    expect(await p.locator('#report-csv').getAttribute('href')).toBe(
      `/staff/api/report?from=2026-11-01&to=${new Date(h.clock.now().getTime() + DAY).toISOString().slice(0, 10)}&format=csv`,
    );
    // The CSV the link names, fetched with the admin's session.
    expect(await p.locator('#report-pdf').getAttribute('href')).toBe(
      `/staff/api/report?from=2026-11-01&to=${new Date(h.clock.now().getTime() + DAY).toISOString().slice(0, 10)}&format=pdf`,
    );
    const pdfType = await p.evaluate(async (href) => (await fetch(href!)).headers.get('content-type'), await p.locator('#report-pdf').getAttribute('href'));
    expect(pdfType).toBe('application/pdf');
    const csv = await p.evaluate(async (href) => (await fetch(href!)).text(), await p.locator('#report-csv').getAttribute('href'));
    expect(csv).toContain('requests,all,all,all,');
    // No receiver configured here: the deliveries say so.
    await p.getByText('No receiver is configured').waitFor();
    // Opt-in links: made on the Staff page, with a QR code to print.
    await p.getByRole('link', { name: 'Staff' }).click();
    await p.getByLabel('Link name').fill('Receipt QR');
    await p.getByLabel('What they opt in to').fill('Offers and new arrivals on WhatsApp');
    await p.getByRole('button', { name: 'Create link' }).click();
    const item = p.locator('#link-list li', { hasText: 'Receipt QR' });
    await item.getByRole('img', { name: 'QR code of the opt-in link "Receipt QR"' }).waitFor();
    const href = await item.getByRole('link').getAttribute('href');
    expect(href).toMatch(/^https:\/\/wa\.me\/15550001111\?text=START%20%23[a-z2-9]{8}$/);
    const linkShot = path.join(ROOT, 'artifacts', 'console-optin.png');
    await item.screenshot({ path: linkShot });
    const linkDocs = path.join(ROOT, 'docs', 'console-optin.png');
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(linkDocs)) copyFileSync(linkShot, linkDocs);
    await p.getByRole('link', { name: 'Audit' }).click();
    // The screenshot of the report (README), as an admin sees it.
    await p.setViewportSize({ width: 1280, height: 1000 });
    await p.locator('#report-heading').scrollIntoViewIfNeeded();
    const shot = path.join(ROOT, 'artifacts', 'console-report.png');
    await p.screenshot({ path: shot });
    const docs = path.join(ROOT, 'docs', 'console-report.png');
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(docs)) copyFileSync(shot, docs);
    await p.context().close();
    expect(pageErrors).toEqual([]);
  }, 30_000);
});
