import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadKeywordPacks } from '../../src/chat/keywordPacks';
import { readLocaleOverrides } from '../../src/i18n/localeOverrides';
import { createChatHarness } from '../support/chat';
import { bodyText } from '../support/chat';
import { ROOT, runNode } from '../support/proc';

/**
 * A deployer's own words (LOCALES_OVERRIDE_DIR): keywords added or removed and reply texts
 * replaced, without a fork; and a broken file stops the start, naming the file and the key.
 */
const dirs: string[] = [];
function overrideDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'privacybot-overrides-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const ACME = {
  'en.json': {
    keywords: { opt_out: { add: ['UNSUB-ACME', 'no more acme'] }, help: { remove: ['menu'] } },
    texts: { 'optOut.confirmed': 'Unsubscribed: {{business}} will not send you offers any more.' },
  },
  'es.json': { keywords: { opt_out: { add: ['fuera acme'] } } },
};

describe('LOCALES_OVERRIDE_DIR', () => {
  it('adds a brand keyword and changes a reply, at start, in the chat', async () => {
    const h = await createChatHarness('overrides', { env: { LOCALES_OVERRIDE_DIR: overrideDir(ACME), BUSINESS_NAME: 'Acme' } });
    try {
      // A running worker set loads the packs with the overrides (workers.ts), as production does.
      const replies = await h.say('15550080001', 'UNSUB-ACME');
      expect(replies.map(bodyText)).toEqual(['Unsubscribed: Acme will not send you offers any more.']);
      expect((await h.deps.stores.subscribers.find({ waId: '15550080001' }))?.consent).toBe('opted_out');
      // Spanish too, in Spanish.
      await h.say('15550080002', 'fuera acme');
      expect((await h.deps.stores.subscribers.find({ waId: '15550080002' }))?.consent).toBe('opted_out');
      // The words it did not change still work; the texts it did not change are ours.
      const stop = await h.say('15550080003', 'STOP');
      expect(stop.map(bodyText)).toEqual(['Unsubscribed: Acme will not send you offers any more.']);
      expect(h.t('en', 'optOut.already')).toContain('already unsubscribed');
    } finally {
      await h.close();
    }
  });

  it('removes a keyword from the table in effect, and the CLI prints that table', () => {
    const dir = overrideDir(ACME);
    const packs = loadKeywordPacks(undefined, readLocaleOverrides(dir).keywords);
    expect(packs.lists.en.opt_out).toEqual(expect.arrayContaining(['unsub acme', 'no more acme', 'stop']));
    expect(packs.lists.en.help).not.toContain('menu');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli/index.js'), 'keywords', '--locale', 'en'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, LOCALES_OVERRIDE_DIR: dir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^en\n/);
    expect(r.stdout).toMatch(/ {2}opt_out: stop, .*unsub acme, no more acme\n/);
    expect(r.stdout).not.toMatch(/help: .*\bmenu\b/);
    expect(r.stdout).not.toContain('\nes\n');
  });

  // Each broken file: the error names the file and the key, and says what is wrong.
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a key the format does not have', { 'en.json': { keyword: {} } }, /en\.json: \(top level\): .*"keyword"/],
    ['a list that cannot be changed', { 'en.json': { keywords: { opt_out_patterns: { add: ['x'] } } } }, /en\.json: keywords: .*"opt_out_patterns"/],
    ['a reply text that does not exist', { 'en.json': { texts: { 'optOut.confirmd': 'x' } } }, /en\.json: texts\."optOut\.confirmd" is not a reply text/],
    [
      'a reply without the placeholder it needs',
      { 'de.json': { texts: { 'optOut.confirmed': 'Erledigt.' } } },
      /de\.json: texts\."optOut\.confirmed" lacks \{\{business\}\}/,
    ],
    [
      'a placeholder the reply does not have',
      { 'en.json': { texts: { 'optOut.already': 'Already, {{name}}.' } } },
      /en\.json: texts\."optOut\.already" uses \{\{name\}\}/,
    ],
    [
      'a keyword claimed by two intents',
      { 'fr.json': { keywords: { opt_out: { add: ['aide'] } } } },
      /fr\.json \(over .*fr\/keywords\.json\): "aide" is in both/,
    ],
    ['a language the bot does not speak', { 'it.json': { texts: {} } }, /it\.json: "it" is not one of the bot's languages/],
    ['a file that is not JSON', { 'es.json': '{ "texts": ' }, /es\.json: not valid JSON/],
    [
      'a phrase that means another action in another language',
      { 'de.json': { keywords: { help: { add: ['baja'] } } } },
      /de\.json: "baja" means opt_out in es but help in de/,
    ],
    [
      'an ambiguous word that is no longer an opt-out',
      { 'en.json': { keywords: { opt_out: { remove: ['cancel'] } } } },
      /en\.json: keywords\.ambiguous: "cancel" must also be in opt_out/,
    ],
    [
      'a removal of a phrase the list does not have (a typo)',
      { 'en.json': { keywords: { help: { remove: ['menus'] } } } },
      /en\.json: keywords\.help\.remove: "menus" is not in the list/,
    ],
    ['a removal of STOP', { 'en.json': { keywords: { opt_out: { remove: ['STOP'] } } } }, /en\.json: keywords\.opt_out\.remove: "STOP" cannot be removed/],
    ['a file that is not <lng>.json', { 'en.yaml': 'texts: {}' }, /en\.yaml: not an override file/],
  ])('refuses %s', (_what, files, message) => {
    const dir = overrideDir(files);
    expect(() => loadKeywordPacks(undefined, readLocaleOverrides(dir).keywords)).toThrow(message);
  });

  it('a folder in the locales/ layout is refused, not silently ignored; dot-entries of a mount are', () => {
    const dir = overrideDir({ '..data': 'x' });
    mkdirSync(path.join(dir, 'en'));
    expect(() => readLocaleOverrides(dir)).toThrow(`${path.join(dir, 'en')}: not an override file`);
    expect(readLocaleOverrides(overrideDir({ '..data': 'x', 'en.json': { texts: {} } }))).toEqual({ keywords: {}, texts: { en: {} } });
  });

  it('a broken file stops the service at start with exit 1, naming the file and the key', async () => {
    const dir = overrideDir({ 'en.json': { texts: { 'optOut.confirmed': 'Done, no business name.' } } });
    const p = runNode('dist/main.js', { LOCALES_OVERRIDE_DIR: dir, LOG_LEVEL: 'silent' });
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([p.exited, new Promise<null>((r) => (timer = setTimeout(() => r(null), 20_000)))]);
    clearTimeout(timer);
    if (!exit) p.child.kill('SIGKILL');
    expect(exit?.code).toBe(1);
    expect(p.err()).toContain(`cannot start: ${path.join(dir, 'en.json')}: texts."optOut.confirmed" lacks {{business}}`);
  });
});
