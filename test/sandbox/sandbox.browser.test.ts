import { readFileSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { createWorkers, type WorkerSet } from '../../src/workers';
import { erasureReference } from '../../src/rights/erasure';
import { axeViolations, horizontalOverflow, VIEWPORTS } from '../support/axe';
import { launchBrowser, requireBrowser, serve, until } from '../support/browser';
import { createHarness, type Harness } from '../support/harness';

/**
 * The chat simulator in a real browser (Debian's chromium, headless) against the real app in sandbox
 * mode (no WhatsApp credential), its workers running by themselves and the real database: what a
 * newcomer trying the sandbox sees, and what the bot recorded. Each state worth showing is checked
 * with axe-core (no serious or critical WCAG 2.1 AA violation) and for sideways scrolling, at a
 * phone's width and a laptop's.
 */
const NO_WHATSAPP = { WHATSAPP_APP_SECRET: undefined, WHATSAPP_VERIFY_TOKEN: undefined, WHATSAPP_ACCESS_TOKEN: undefined, WHATSAPP_PHONE_NUMBER_ID: undefined };
const SAM = '15550100001'; // the number the page starts with

requireBrowser();

describe('the sandbox chat simulator in a browser', () => {
  let h: Harness;
  let workers: WorkerSet;
  let server: Awaited<ReturnType<typeof serve>>;
  let base: string;
  let browser: Browser;
  const pageErrors: string[] = [];

  /** A fresh browser profile at the laptop width; script errors and CSP violations are collected. */
  async function openSimulator(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'en-US', timezoneId: 'UTC', acceptDownloads: true });
    const p = await context.newPage();
    p.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()} ${m.location().url}`);
    });
    // Problems are told on the page, next to what they are about, never in a dialog (an alert() was how a wrong number used to be reported).
    p.on('dialog', (d) => {
      pageErrors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await p.goto(`${base}/sandbox`);
    return p;
  }

  /** The page as it is now, at both widths: axe finds nothing serious, nothing scrolls sideways. */
  async function expectAccessible(p: Page, state: string) {
    const found: string[] = [];
    for (const v of VIEWPORTS) {
      await p.setViewportSize({ width: v.width, height: v.height });
      for (const violation of await axeViolations(p)) found.push(`${state} at ${v.name}: ${violation}`);
      const overflow = await horizontalOverflow(p);
      if (overflow > 0) found.push(`${state} at ${v.name}: ${overflow}px wider than the screen`);
    }
    await p.setViewportSize({ width: 1366, height: 900 });
    expect(found).toEqual([]);
  }

  /** Types into the message box and sends with Enter, as a keyboard user does. */
  async function say(p: Page, text: string) {
    await p.getByLabel('Message', { exact: true }).fill(text);
    await p.getByLabel('Message', { exact: true }).press('Enter');
  }

  async function useNumber(p: Page, number: string) {
    const field = p.getByLabel('Your number');
    await field.fill(number);
    await field.press('Tab'); // leaving the field picks the number
  }

  /** The texts of the ids an element's aria-describedby names: what a screen reader reads with it. */
  const descriptionOf = (l: Locator) =>
    l.evaluate((el) =>
      (el.getAttribute('aria-describedby') ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .map((id) => document.getElementById(id)?.textContent ?? '')
        .join(' '),
    );

  const person = (waId: string) => h.deps.stores.subscribers.find({ waId });
  const nameOf = async (waId: string) => {
    const s = await person(waId);
    return s ? h.deps.stores.subscribers.open(s, 'nameEnc') : null;
  };
  const thread = (p: Page) => p.getByRole('log', { name: 'Messages' });

  beforeAll(async () => {
    h = await createHarness('sandboxbrowser', { env: NO_WHATSAPP });
    expect(h.deps.config.sandbox).toBe(true);
    workers = createWorkers(h.deps);
    // The workers run by themselves, as in `npm start`.
    workers.start();
    server = await serve(h.app);
    base = server.base;
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close();
    await workers?.stop();
    await h?.close();
  });

  beforeEach(() => {
    pageErrors.length = 0;
  });

  it('checks the number inline without losing the message, takes "+1 555-010-0009", and names only a new person', async () => {
    const p = await openSimulator();
    const number = p.getByLabel('Your number');
    const name = p.getByLabel('Your name');
    const box = p.getByLabel('Message', { exact: true });
    await expectAccessible(p, 'the empty simulator');

    // Sam is created by his first message, under the name in the field.
    expect(await name.inputValue()).toBe('Sam Sandbox');
    expect(await name.isEditable()).toBe(true);
    await say(p, 'HELP');
    await thread(p).getByRole('button').first().waitFor();
    expect(await nameOf(SAM)).toBe('Sam Sandbox');
    // Now a known person: the field shows his stored name and cannot change it.
    await until('the name field to follow Sam', async () => !(await name.isEditable()));
    expect(await name.inputValue()).toBe('Sam Sandbox');

    // A number with letters: said next to the field, tied to it; the message stays in the box.
    await useNumber(p, '555-12ab');
    const error = p.locator('#waError');
    await error.getByText('Enter the number with its country code').waitFor();
    expect(await number.getAttribute('aria-invalid')).toBe('true');
    expect(await descriptionOf(number)).toContain('Enter the number with its country code: 6 to 15 digits');
    await say(p, 'hello there');
    expect(await box.inputValue()).toBe('hello there');
    expect(await p.evaluate(() => document.activeElement?.id)).toBe('waId');
    await expectAccessible(p, 'a wrong number');
    // Nothing was sent for it.
    expect(await h.deps.models.Subscriber.countDocuments({})).toBe(1);

    // Written the way people write numbers: taken, as its digits. A new person: the field is free
    // again, and names them.
    await useNumber(p, '+1 555-010-0009');
    await until('the error to go', async () => (await number.getAttribute('aria-invalid')) === null);
    expect(await error.textContent()).toBe('');
    expect(await descriptionOf(number)).not.toContain('Enter the number');
    await until('the name field to be free for a new person', () => name.isEditable());
    await name.fill('Nia New');
    await box.press('Enter'); // the draft, still there
    await thread(p).getByText('hello there').waitFor();
    expect(await box.inputValue()).toBe('');
    const nia = await until('Nia in the database', () => person('15550100009'));
    expect(nia.origin).toBe('sandbox');
    expect(await nameOf('15550100009')).toBe('Nia New');

    // Back to Sam: his own name shows (not Nia's), and writing as him does not rename him.
    await useNumber(p, '+1 (555) 010-0001');
    await until('Sam again', async () => (await name.inputValue()) === 'Sam Sandbox');
    expect(await name.isEditable()).toBe(false);
    await say(p, 'STATUS');
    await until('STATUS handled', async () => (await h.deps.stores.conversation.linesOf((await person(SAM))!._id)).length >= 4);
    await thread(p)
      .locator('li.msg.in', { hasText: /^STATUS/ })
      .waitFor();
    expect(await nameOf(SAM)).toBe('Sam Sandbox');
    expect(await nameOf('15550100009')).toBe('Nia New');
    // And Nia's number brings her name back.
    await useNumber(p, '15550100009');
    await until('Nia again', async () => (await name.inputValue()) === 'Nia New');
    await p.context().close();
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('fills the message box from a suggestion; MY DATA links are named as the files they save, the JSON indented', async () => {
    const waId = '15550100012';
    const p = await openSimulator();
    await useNumber(p, waId);
    const box = p.getByLabel('Message', { exact: true });
    await p.getByRole('button', { name: 'MY DATA', exact: true }).click();
    expect(await box.inputValue()).toBe('MY DATA');
    expect(await p.evaluate(() => document.activeElement?.id)).toBe('text');
    // A suggestion only fills the box: nothing is sent until Send.
    await new Promise((r) => setTimeout(r, 300));
    expect(await person(waId)).toBeNull();
    await p.getByRole('button', { name: 'Send' }).click();

    const day = h.clock.now().toISOString().slice(0, 10);
    const names = [`my-data-${day}.pdf`, `my-data-${day}.json.txt`];
    for (const filename of names) {
      const link = thread(p).getByRole('link', { name: filename, exact: true });
      await link.waitFor({ timeout: 15_000 });
      expect(await link.textContent()).toBe(filename);
      const [download] = await Promise.all([p.waitForEvent('download'), link.click()]);
      expect(download.suggestedFilename()).toBe(filename);
      const bytes = readFileSync((await download.path())!);
      if (filename.endsWith('.pdf')) {
        expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      } else {
        const text = bytes.toString('utf8');
        const parsed = JSON.parse(text);
        expect(parsed).toMatchObject({ schemaVersion: 1, subject: { whatsappNumber: `+${waId}` } });
        // Indented by two spaces, one value a line: readable as it is opened.
        expect(text).toBe(JSON.stringify(parsed, null, 2));
        expect(text.split('\n').length).toBeGreaterThan(10);
      }
    }
    // The files are the person's own exports, as stored.
    const s = (await person(waId))!;
    expect(await h.deps.models.Export.countDocuments({ subscriberId: s._id })).toBe(2);
    await expectAccessible(p, 'the MY DATA downloads');
    await p.context().close();
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('says once, under the free text it let pass, that the bot hints once a day', async () => {
    const waId = '15550100011';
    const p = await openSimulator();
    await useNumber(p, waId);
    const log = thread(p);
    const notes = log.locator('li.note');

    // The first free text gets the hint, and no note.
    await say(p, 'hello, is anyone there?');
    await log.getByText(h.deps.i18n.t('en', 'hint.unknown')).waitFor();
    expect(await notes.count()).toBe(0);

    // The second gets nothing from the bot: the page says why.
    await say(p, 'where is my parcel?');
    const note = log.getByText('No reply: the bot hints once a day.');
    await note.waitFor();
    // Right under that message.
    expect(await log.locator('li').last().textContent()).toContain('the bot hints once a day');
    expect(await log.locator('li').nth(-2).textContent()).toContain('where is my parcel?');
    // The bot indeed answered only the first: one reply, the hint of the first message.
    const s = (await person(waId))!;
    const lines = await h.deps.stores.conversation.linesOf(s._id);
    expect(lines.map((l) => [l.direction, l.intent])).toEqual([
      ['in', 'unknown'],
      ['out', null],
      ['in', 'unknown'],
    ]);
    expect(s.hintRequestId).toBe(lines[0]._id);

    // Explained once: a third one moves the note under it, it does not add another.
    await say(p, 'hello??');
    await until('the note under the third message', async () => (await log.locator('li').nth(-2).textContent())?.includes('hello??'));
    expect(await notes.count()).toBe(1);
    await expectAccessible(p, 'a conversation with the once-a-day note');
    await p.context().close();
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('keeps the conversation on screen after an erasure, marked erased, with the confirmation and its reference (keyboard only)', async () => {
    const waId = '15550100013';
    const p = await openSimulator();
    await useNumber(p, waId);
    const log = thread(p);

    // Keyboard only: the message box, then Tab to Send and Enter.
    await p.getByLabel('Message', { exact: true }).focus();
    await p.keyboard.type('STOP');
    await p.keyboard.press('Tab');
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('Send');
    await p.keyboard.press('Enter');
    await log.getByText(h.deps.i18n.t('en', 'optOut.confirmed', { business: h.deps.config.business.name }).slice(0, 20)).waitFor();
    await p.keyboard.press('Shift+Tab');
    await p.keyboard.type('DELETE');
    await p.keyboard.press('Enter');
    const yes = log.getByRole('button', { name: h.deps.i18n.t('en', 'erase.yes') });
    await yes.waitFor();
    // From the message box back to the question's button, by keyboard.
    for (let i = 0; i < 6 && (await p.evaluate(() => document.activeElement?.textContent)) !== h.deps.i18n.t('en', 'erase.yes'); i++) {
      await p.keyboard.press('Shift+Tab');
    }
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe(h.deps.i18n.t('en', 'erase.yes'));
    const s = (await person(waId))!;
    await p.keyboard.press('Enter');

    // The data is gone: the profile, the conversation; the request is done.
    await until('the erasure', async () => !(await person(waId)));
    expect(await h.deps.stores.conversation.linesOf(s._id)).toEqual([]);
    // (The request closes as the job's last step.)
    const erasure = await until('the erasure request done', async () =>
      (await h.deps.stores.requests.ofPerson(s.key)).find((r) => r.type === 'erasure' && r.state === 'done'),
    );
    const ref = erasureReference(erasure._id);

    // The page still shows what it showed, marked erased, then the bot's confirmation with the reference.
    await log.getByText('Your data was erased.').waitFor();
    const confirmation = log.locator('li.confirmation');
    await confirmation.getByText(`Reference: ${ref}`).waitFor();
    expect(await confirmation.textContent()).toContain(h.deps.i18n.t('en', 'erase.done', { ref }));
    expect(await log.locator('li.msg.in.archived', { hasText: /^DELETE/ }).count()).toBe(1);
    expect(await log.locator('li.msg.in.archived', { hasText: /^STOP/ }).count()).toBe(1);
    // Nothing of it can be pressed any more (the question's buttons are gone with the data).
    expect(await log.getByRole('button').count()).toBe(0);
    expect(await p.locator('#consent').textContent()).toBe('erased');
    // It stays: several polls later it is all still there.
    await new Promise((r) => setTimeout(r, 2500));
    await confirmation.getByText(`Reference: ${ref}`).waitFor({ timeout: 1000 });
    expect(await log.locator('li.msg.in.archived', { hasText: /^DELETE/ }).count()).toBe(1);
    // The page did not bring the person back.
    expect(await person(waId)).toBeNull();
    await expectAccessible(p, 'the erased conversation');
    // A reload keeps the confirmation (this tab kept the seal, not the messages).
    await p.reload();
    await p.locator('#waId').fill(waId);
    await p.locator('#waId').press('Enter');
    await log.locator('li.confirmation').getByText(`Reference: ${ref}`).waitFor();
    expect(await log.locator('li.msg.archived').count()).toBe(0);
    expect(await person(waId)).toBeNull();
    await p.context().close();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
