import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expireUnconfirmedErasures } from '../../src/rights/erasure';
import { createStaff } from '../../src/staff/accounts';
import { axeViolations, horizontalOverflow, VIEWPORTS } from '../support/axe';
import { launchBrowser, requireBrowser, serve } from '../support/browser';
import { createChatHarness, type ChatHarness } from '../support/chat';

/**
 * The console as staff use it on any screen and with the keyboard alone (Debian's chromium,
 * headless, against the real app and database): axe-core finds no serious or critical WCAG 2.1 AA
 * violation on any view at 390×844 or 1366×900, nothing scrolls sideways on a phone, the keyboard
 * paths work, the "needs a human" queue and the requests page work as triage. Leaves phone and
 * desktop screenshots in artifacts/ (and docs/ with UPDATE_SCREENSHOTS=1).
 */
const ROOT = path.resolve(__dirname, '..', '..');
const PASSWORD = 'correct horse battery staple';
const ADMIN = { email: 'ada@access.test', name: 'Ada Admin', role: 'admin', password: PASSWORD };
const AGENT = { email: 'agnes@access.test', name: 'Agnes Agent', role: 'agent', password: PASSWORD };
const DANA = '15550002222';
const MINUTE = 60_000;
const DAY = 86_400_000;

requireBrowser();

describe('the staff console on any screen, by keyboard, as a triage queue', () => {
  let h: ChatHarness;
  let server: Awaited<ReturnType<typeof serve>>;
  let base: string;
  let browser: Browser;
  const pageErrors: string[] = [];

  async function newPage(viewport: { width: number; height: number }): Promise<Page> {
    const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC' });
    await context.clock.setFixedTime(h.clock.now());
    const p = await context.newPage();
    p.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() === 'error' && !/status of (401|409)/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
    return p;
  }

  async function signIn(p: Page, who: { email: string; password: string }) {
    await p.goto(`${base}/staff`);
    const login = p.getByRole('main').locator('form');
    await login.getByLabel('Email').fill(who.email);
    await login.getByLabel('Password').fill(who.password);
    await login.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('link', { name: 'Conversations' }).waitFor();
  }

  const activeId = (p: Page) =>
    p.evaluate(() => document.activeElement?.id || document.activeElement?.getAttribute('data-id') || document.activeElement?.tagName);

  /** Tab until the element with this id has the focus; the number of presses it took. */
  async function tabTo(p: Page, id: string, max = 25): Promise<number> {
    for (let n = 1; n <= max; n++) {
      await p.keyboard.press('Tab');
      if ((await activeId(p)) === id) return n;
    }
    throw new Error(`#${id} not reached in ${max} Tab presses (at ${await activeId(p)})`);
  }

  beforeAll(async () => {
    h = await createChatHarness('console-access', { env: { UTILITY_TEMPLATE_NAME: 'account_update' } });
    server = await serve(h.app);
    base = server.base;
    for (const who of [ADMIN, AGENT]) expect((await createStaff(h.deps, null, who)).kind).toBe('created');
    // An erasure asked and never confirmed, 27 days ago; one asked today and left open; an opt-out;
    // and Dana's question, which only a person can answer.
    await h.say('15550006666', 'DELETE', { name: 'Sam Rivera' });
    h.clock.advance(27 * DAY);
    await h.say('15550004444', 'STOP', { name: 'María López' });
    h.clock.advance(6 * MINUTE);
    await h.say('34612345678', 'DELETE', { name: 'Lucía Fernández' });
    h.clock.advance(3 * MINUTE);
    await h.say(DANA, 'my parcel arrived damaged, can someone call me?', { name: 'Dana Example' });
    h.clock.advance(MINUTE);
    h.workers.start();
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close();
    await h?.close();
  });

  it.each(VIEWPORTS.map((v) => [v.name, v]))(
    'at %s width every view passes axe (no serious or critical violation) and nothing scrolls sideways',
    async (name, viewport) => {
      pageErrors.length = 0;
      const p = await newPage(viewport);
      await p.goto(`${base}/staff`);
      await p.getByRole('button', { name: 'Sign in' }).waitFor();
      const found: Record<string, string[]> = { 'sign-in': await axeViolations(p) };
      const overflow: Record<string, number> = { 'sign-in': await horizontalOverflow(p) };
      await signIn(p, ADMIN);
      await p.getByRole('button', { name: /Dana Example/ }).waitFor();
      found.conversations = await axeViolations(p);
      overflow.conversations = await horizontalOverflow(p);
      await p.getByRole('button', { name: /Dana Example/ }).click();
      await p.locator('#thread').getByText('my parcel arrived damaged').waitFor();
      found.conversation = await axeViolations(p);
      overflow.conversation = await horizontalOverflow(p);
      if (name === 'phone') {
        await p.getByRole('button', { name: 'Details' }).click();
        await p.locator('#side-pane').getByText('Consent history').waitFor();
        found.details = await axeViolations(p);
        overflow.details = await horizontalOverflow(p);
        await p.getByRole('button', { name: 'Close details' }).click();
      }
      for (const view of ['requests', 'audit', 'staff']) {
        await p.getByRole('link', { name: view[0].toUpperCase() + view.slice(1), exact: true }).click();
        await p.locator(`#view-${view}`).waitFor();
        await p.waitForLoadState('networkidle');
        found[view] = await axeViolations(p);
        overflow[view] = await horizontalOverflow(p);
      }
      expect(found).toEqual({
        'sign-in': [],
        conversations: [],
        conversation: [],
        ...(name === 'phone' ? { details: [] } : {}),
        requests: [],
        audit: [],
        staff: [],
      });
      if (name === 'phone') expect(Object.values(overflow).every((o) => o === 0) ? {} : overflow).toEqual({});
      // The top bar never pushes "Log out" off the screen, and it stays readable (white on the brand colour).
      const box = await p.getByRole('button', { name: 'Log out' }).boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(viewport.width);
      await p.context().close();
      expect(pageErrors).toEqual([]);
    },
    60_000,
  );

  it('on a phone the list and the thread are separate views, the details a drawer, with a way back', async () => {
    const p = await newPage(VIEWPORTS[0]);
    await signIn(p, AGENT);
    const dana = p.getByRole('button', { name: /Dana Example/ });
    await dana.click();
    await p.locator('#thread').getByText('my parcel arrived damaged').waitFor();
    expect(await p.locator('#conv-list').isVisible()).toBe(false);
    expect(await activeId(p)).toBe('thread-title');
    // The screenshot (README): a conversation as an agent reads it on a phone.
    mkdirSync(path.join(ROOT, 'artifacts'), { recursive: true });
    const shot = path.join(ROOT, 'artifacts', 'console-phone.png');
    await p.locator('#thread-title').blur();
    await p.screenshot({ path: shot });
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(path.join(ROOT, 'docs', 'console-phone.png')))
      copyFileSync(shot, path.join(ROOT, 'docs', 'console-phone.png'));
    expect(await p.locator('#side-pane').isVisible()).toBe(false);
    await p.getByRole('button', { name: 'Details' }).click();
    expect(await p.locator('#side-pane').isVisible()).toBe(true);
    expect(await activeId(p)).toBe('side-close');
    await p.keyboard.press('Escape');
    expect(await p.locator('#side-pane').isVisible()).toBe(false);
    expect(await activeId(p)).toBe('act-details');
    await p.getByRole('button', { name: '← Conversations' }).click();
    await p.locator('#conv-list').waitFor();
    expect(await p.locator('#thread-view').isVisible()).toBe(false);
    expect(await activeId(p)).toBe(await dana.getAttribute('data-id'));
    await p.context().close();
  }, 30_000);

  it('by keyboard alone: sign in, find the person who needs a human, open, reveal, reply, pause', async () => {
    pageErrors.length = 0;
    const p = await newPage(VIEWPORTS[1]);
    await p.goto(`${base}/staff`);
    await p.getByRole('button', { name: 'Sign in' }).waitFor();
    await tabTo(p, 'login-email');
    await p.keyboard.type(AGENT.email);
    await p.keyboard.press('Tab');
    await p.keyboard.type(AGENT.password);
    await p.keyboard.press('Enter');
    await p.getByRole('link', { name: 'Conversations' }).waitFor();
    // The keyboard starts in the content, at the view's heading.
    await p.waitForFunction(() => document.activeElement?.id === 'conv-heading');

    // The queue: "Needs a human" shows only Dana.
    await tabTo(p, 'conv-search');
    await p.keyboard.press('Tab');
    expect(await activeId(p)).toBe('conv-show');
    await p.locator('#conv-show').selectOption('needsHuman');
    const list = p.locator('#conv-list');
    await p.waitForFunction(() => document.querySelectorAll('#conv-list .conv-item').length === 1);
    expect(await list.innerText()).toContain('Dana Example');
    expect(await list.innerText()).toContain('Needs a human');

    // Into the list, open with Enter: the keyboard moves to the thread.
    await p.keyboard.press('Tab');
    await p.keyboard.press('Enter');
    await p.locator('#thread').getByText('my parcel arrived damaged').waitFor();
    await p.waitForFunction(() => document.activeElement?.id === 'thread-title');
    expect(await p.locator('#needs-human').innerText()).toMatch(/^Needs a human: /);

    // Reveal, with a reason typed in the dialog; the keyboard lands on the number.
    await tabTo(p, 'act-reveal');
    await p.keyboard.press('Enter');
    expect(await activeId(p)).toBe('reveal-reason');
    await p.keyboard.type('the person asked for a call back');
    await p.keyboard.press('Tab');
    await p.keyboard.press('Tab');
    expect(await activeId(p)).toBe('reveal-confirm');
    await p.keyboard.press('Enter');
    await p.waitForFunction(() => document.activeElement?.id === 'thread-number');
    expect(await p.locator('#thread-number').innerText()).toBe(`+${DANA}`);

    // The reply box is a few Tabs from the thread; Enter sends; the mark is gone.
    await p.locator('#thread-title').focus();
    expect(await tabTo(p, 'reply-text')).toBeLessThanOrEqual(9);
    await p.keyboard.type('Sorry to hear that, Dana. We will call you today.');
    await p.keyboard.press('Enter');
    await p.locator('#thread').getByText('We will call you today.').waitFor();
    await p.locator('#needs-human').waitFor({ state: 'hidden' });
    expect((await h.deps.stores.subscribers.find({ waId: DANA }))?.needsHumanAt ?? null).toBeNull();

    // Pause the bot for this person.
    await p.locator('#thread-title').focus();
    await tabTo(p, 'act-pause');
    await p.keyboard.press('Enter');
    await p.locator('#act-pause', { hasText: 'Resume bot' }).waitFor();
    expect((await h.deps.stores.subscribers.find({ waId: DANA }))?.pausedByStaff).toBe(true);
    // The status bar said so, and covers nothing: the Send button is not under it.
    const toast = await p.locator('#toast').boundingBox();
    const send = await p.locator('#reply-send').boundingBox();
    expect(toast!.y).toBeGreaterThanOrEqual(send!.y + send!.height);
    await p.context().close();
    expect(pageErrors).toEqual([]);
  }, 45_000);

  it('the requests page says whose each request is, opens on open ones, and an agent closes one with a reason', async () => {
    // Sam's DELETE was never confirmed: the running workers closed it as expired (they check every
    // minute, at once on start), so it is neither open nor overdue.
    const [sam] = await h.deps.stores.requests.ofPerson(h.deps.stores.subscribers.tokenOf({ waId: '15550006666' }));
    expect(sam).toMatchObject({ type: 'erasure', state: 'expired' });
    expect(await expireUnconfirmedErasures(h.deps.rights)).toBe(0);
    const p = await newPage(VIEWPORTS[1]);
    await signIn(p, AGENT);
    await p.getByRole('link', { name: 'Requests', exact: true }).click();
    const rows = p.locator('#req-rows tr');
    await p.waitForFunction(() => document.querySelectorAll('#req-rows tr').length > 0 && !document.querySelector('#req-rows .empty-row'));
    expect(await p.locator('#req-state').inputValue()).toBe('open');
    const text = await p.locator('#req-rows').innerText();
    expect(text).toContain('Lucía Fernández');
    expect(text).toContain('+34•••••5678');
    expect(text).not.toContain('Sam Rivera');
    expect(await rows.count()).toBe(1);

    await p.getByRole('button', { name: 'Close the Erasure request of Lucía Fernández' }).click();
    await p.locator('#close-reason').selectOption('withdrawn_by_person');
    await p.locator('#close-note').fill('she wrote to cancel it by email');
    await p.getByRole('button', { name: 'Close request' }).click();
    await p.locator('#req-rows .empty-row').waitFor();
    const [lucia] = await h.deps.stores.requests.ofPerson(h.deps.stores.subscribers.tokenOf({ waId: '34612345678' }));
    expect(lucia).toMatchObject({ state: 'cancelled', outcome: 'closed by staff: withdrawn by person' });

    // Every state: the expired one reads as such, in words.
    await p.locator('#req-state').selectOption('');
    await p.locator('#req-rows').getByText('Expired — not confirmed').waitFor();
    await p.context().close();
  }, 30_000);

  // Last: it moves the clock to the end of María's window.
  it('a reply refused because the window closed meanwhile shows the window as it is, keeps the draft and names the template', async () => {
    const maria = await h.deps.stores.subscribers.find({ waId: '15550004444' });
    h.clock.advance(maria!.windowUntil!.getTime() - h.clock.now().getTime() - MINUTE);
    const p = await newPage(VIEWPORTS[1]);
    await signIn(p, AGENT);
    await p.getByRole('button', { name: /María López/ }).click();
    await p.locator('#thread').getByText('STOP', { exact: true }).waitFor();
    expect(await p.locator('#reply-text').isEnabled()).toBe(true);
    // The window closes on the server while the page stays open.
    h.clock.advance(2 * MINUTE);
    await p.locator('#reply-text').fill('Are you sure?');
    await p.getByRole('button', { name: 'Send', exact: true }).click();
    await p.locator('#toast', { hasText: 'Sending failed: the 24-hour window is closed' }).waitFor();
    await p.waitForFunction(() => (document.getElementById('reply-text') as HTMLTextAreaElement).disabled);
    expect(await p.locator('#reply-text').inputValue()).toBe('Are you sure?');
    expect(await p.locator('#reply-hint').innerText()).toContain('approved template "account_update"');
    await p.locator('#side-facts').getByText('Closed').waitFor();
    expect(h.fake.deliveredTo('15550004444').map((b) => b.text?.body)).not.toContain('Are you sure?');
    await p.context().close();
  }, 30_000);
});
