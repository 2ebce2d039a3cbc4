import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadKeywordPacks } from '../../src/chat/keywordPacks';
import { checkLanguagesInUse, localeTemplate, readLocaleOverrides } from '../../src/i18n/localeOverrides';
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

/**
 * An Italian override made as a deployer would: the CLI's template, its keywords and a few replies
 * translated (the rest left as the template has them). `code` makes the same file under another code.
 */
function italian(code = 'it') {
  const t = localeTemplate(code) as { language: object; keywords: Record<string, { add: string[] }>; texts: Record<string, string> };
  const words: Record<string, string[]> = {
    opt_out: ['stop', 'disiscrivimi', 'basta messaggi'],
    opt_in: ['start', 'iscrivimi'],
    help: ['aiuto'],
    my_data: ['i miei dati'],
    delete: ['cancellami', 'elimina i miei dati'],
    status: ['stato'],
    language: ['lingua'],
    yes: ['sì', 'si'],
    no: ['no'],
  };
  return {
    language: { name: 'Italiano', names: ['italian', 'italienisch'] },
    keywords: Object.fromEntries(Object.keys(t.keywords).map((list) => [list, { add: code === 'it' ? words[list] : [`${list} ${code}`] }])),
    texts: {
      ...t.texts,
      'optOut.confirmed': 'Fatto: {{business}} non ti invierà più messaggi di marketing su WhatsApp.',
      'language.changed': "D'accordo, da ora ti rispondo in italiano.",
    },
  };
}

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
    const packs = loadKeywordPacks(undefined, readLocaleOverrides(dir));
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
    [
      'a language the bot does not speak, without naming it',
      { 'it.json': { texts: {} } },
      /it\.json: "it" is not one of our languages .*"language": \{ "name"/,
    ],
    ['a file named after no language code', { 'Italiano.json': { texts: {} } }, /Italiano\.json: "Italiano" is not a language code/],
    ['a name for one of our languages', { 'en.json': { language: { name: 'English' } } }, /en\.json: language: only a file that adds a language names it/],
    [
      'a new language without every reply text',
      { 'it.json': { ...italian(), texts: { 'optOut.already': 'Già fatto.' } } },
      /it\.json: texts: a new language gives every reply text; \d+ missing/,
    ],
    [
      'a new language without DELETE',
      { 'it.json': { ...italian(), keywords: { ...italian().keywords, delete: undefined } } },
      /it\.json: keywords\.delete\.add: a new language lists at least one phrase/,
    ],
    [
      'a new language named like one of ours',
      { 'it.json': { ...italian(), language: { name: 'Italiano', names: ['English'] } } },
      /it\.json: language: "English" already names en/,
    ],
    [
      'a new language whose name is a keyword',
      { 'it.json': { ...italian(), language: { name: 'Italiano', names: ['aiuto'] } } },
      /it\.json: language: "aiuto" is a keyword \(help in it\)/,
    ],
    ['an old code for one of our languages', { 'in.json': { ...italian('in'), language: { name: 'Indonesia lama' } } }, /in\.json: "in" is written "id"/],
    ['a long code for one of our languages', { 'eng.json': { ...italian('eng'), language: { name: 'Anglais' } } }, /eng\.json: "eng" is written "en"/],
    [
      "the template's placeholder name left as it is",
      { 'it.json': { ...italian(), language: { name: '(it in itself)' } } },
      /it\.json: language\.name: the language's name in itself/,
    ],
    [
      'a new language named like a greeting',
      { 'it.json': { ...italian(), language: { name: 'Italiano', names: ['hi'] } } },
      /it\.json: language: "hi" is a filler word/,
    ],
    [
      'more languages than the LANGUAGE list holds',
      Object.fromEntries(['it', 'nl', 'pl', 'sv', 'da'].map((l) => [`${l}.json`, { ...italian(l), language: { name: `Lang ${l}` } }])),
      /5 languages added to our 6; at most 10 in all/,
    ],
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
    expect(() => loadKeywordPacks(undefined, readLocaleOverrides(dir))).toThrow(message);
  });

  it('a folder in the locales/ layout is refused, not silently ignored; dot-entries of a mount are', () => {
    const dir = overrideDir({ '..data': 'x' });
    mkdirSync(path.join(dir, 'en'));
    expect(() => readLocaleOverrides(dir)).toThrow(`${path.join(dir, 'en')}: not an override file`);
    expect(readLocaleOverrides(overrideDir({ '..data': 'x', 'en.json': { texts: {} } }))).toEqual({ keywords: {}, texts: { en: {} }, added: [] });
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

  it('a default language the bot does not speak stops the start with exit 1', async () => {
    const p = runNode('dist/main.js', { DEFAULT_LOCALE: 'xx', LOG_LEVEL: 'silent' });
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([p.exited, new Promise<null>((r) => (timer = setTimeout(() => r(null), 20_000)))]);
    clearTimeout(timer);
    if (!exit) p.child.kill('SIGKILL');
    expect(exit?.code).toBe(1);
    expect(p.err()).toContain('cannot start: DEFAULT_LOCALE: "xx" is not a language of the bot');
  });

  describe('a language the deployer adds', () => {
    it('is understood and answered in the chat, offered by LANGUAGE, and chosen by country', async () => {
      const h = await createChatHarness('overrides-it', {
        env: { LOCALES_OVERRIDE_DIR: overrideDir({ 'it.json': italian() }), BUSINESS_NAME: 'Acme', COUNTRY_LOCALES: 'IT:it' },
      });
      try {
        // Its own words, answered in it, remembered.
        expect((await h.say('15550080011', 'disiscrivimi')).map(bodyText)).toEqual(['Fatto: Acme non ti invierà più messaggi di marketing su WhatsApp.']);
        const s = await h.deps.stores.subscribers.find({ waId: '15550080011' });
        expect([s?.consent, s?.locale]).toEqual(['opted_out', 'it']);
        // A shared word ("stop") from an Italian number is answered in Italian: the country picks it.
        expect((await h.say('393331234567', 'STOP')).map(bodyText)).toEqual(['Fatto: Acme non ti invierà più messaggi di marketing su WhatsApp.']);
        // ... and in English from anyone else: ours come first.
        expect((await h.say('15550080012', 'STOP')).map(bodyText)[0]).toMatch(/^Done: Acme will send you no more/);
        // LANGUAGE lists it after ours, under its own name; its name picks it.
        const list = await h.say('15550080013', 'LANGUAGE');
        const rows = list[0].interactive.action.sections[0].rows as { id: string; title: string }[];
        expect(rows.map((r) => r.title)).toEqual(['English', 'Español', 'Português', 'Français', 'Deutsch', 'Bahasa Indonesia', 'Italiano']);
        expect((await h.press('15550080013', rows[6].id, 'Italiano')).map(bodyText)).toEqual(["D'accordo, da ora ti rispondo in italiano."]);
        expect((await h.deps.stores.subscribers.find({ waId: '15550080013' }))?.locale).toBe('it');
        await h.say('15550080014', 'italian');
        expect((await h.deps.stores.subscribers.find({ waId: '15550080014' }))?.locale).toBe('it');
      } finally {
        await h.close();
      }
    });

    it('a three-letter code is offered and chosen; its bare code is not a word that switches to it', async () => {
      const hindiLike = { ...italian('fil'), language: { name: 'Filipino', names: ['tagalog'] } };
      const h = await createChatHarness('overrides-fil', { env: { LOCALES_OVERRIDE_DIR: overrideDir({ 'fil.json': hindiLike }) } });
      try {
        const list = await h.say('15550080021', 'LANGUAGE');
        const rows = list[0].interactive.action.sections[0].rows as { id: string; title: string }[];
        expect(rows.at(-1)).toEqual(expect.objectContaining({ id: 'lang.fil', title: 'Filipino' }));
        await h.press('15550080021', 'lang.fil', 'Filipino');
        expect((await h.deps.stores.subscribers.find({ waId: '15550080021' }))?.locale).toBe('fil');
        // "fil" alone is not a language choice (an added code may be a common word: "hi", "no").
        await h.say('15550080022', 'fil');
        expect((await h.deps.stores.subscribers.find({ waId: '15550080022' }))?.locale).not.toBe('fil');
        await h.say('15550080022', 'tagalog');
        expect((await h.deps.stores.subscribers.find({ waId: '15550080022' }))?.locale).toBe('fil');
      } finally {
        await h.close();
      }
    });

    it('a person whose language was dropped from the folder is answered in DEFAULT_LOCALE', async () => {
      const h = await createChatHarness('overrides-dropped', { env: { DEFAULT_LOCALE: 'es' } });
      try {
        await h.say('15550080031', 'STATUS');
        const s = await h.deps.stores.subscribers.find({ waId: '15550080031' });
        await h.deps.stores.subscribers.setLocale(s!._id, 'it');
        // Free text, answered in the person's stored language, which the bot no longer has.
        expect((await h.say('15550080031', 'my parcel never came')).map(bodyText)).toEqual([h.t('es', 'hint.unknown')]);
        expect((await h.deps.stores.subscribers.find({ waId: '15550080031' }))?.locale).toBe('it');
      } finally {
        await h.close();
      }
    });

    it('a file from a template without plural forms still loads; one that uses them must give them all', () => {
      const file = italian();
      const texts = Object.fromEntries(
        Object.entries(file.texts)
          .filter(([k]) => !k.startsWith('count.'))
          .map(([k, v]) => [k, v.replace(/\$t\(count\.(\w+), \{"count": \{\{(\w+)\}\} \}\)/g, '{{$2}} $1')]),
      );
      expect(readLocaleOverrides(overrideDir({ 'it.json': { ...file, texts } })).added.map((a) => a.locale)).toEqual(['it']);
      const withoutMany = Object.fromEntries(Object.entries(file.texts).filter(([k]) => k !== 'count.days_many'));
      expect(() => readLocaleOverrides(overrideDir({ 'it.json': { ...file, texts: withoutMany } }))).toThrow(/1 missing \("count\.days_many"\)/);
    });

    it('the CLI writes a template that loads once named, and lists the language in effect', () => {
      const dir = overrideDir({});
      const run = (args: string[], env: Record<string, string> = {}) =>
        spawnSync(process.execPath, [path.join(ROOT, 'dist/cli/index.js'), ...args], {
          cwd: ROOT,
          env: { PATH: process.env.PATH, ...env },
          encoding: 'utf8',
          timeout: 30_000,
        });
      const t = run(['locale-template', 'nl']);
      expect(t.status).toBe(0);
      const file = JSON.parse(t.stdout);
      expect(file.texts['optOut.confirmed']).toContain('{{business}}');
      writeFileSync(path.join(dir, 'nl.json'), JSON.stringify({ ...file, language: { name: 'Nederlands' } }));
      const k = run(['keywords', '--locale', 'nl'], { LOCALES_OVERRIDE_DIR: dir });
      expect(k.status).toBe(0);
      expect(k.stdout).toMatch(/^nl\n {2}opt_out: stop/);
      expect(run(['locale-template', 'Dutch']).status).toBe(2);
      expect(run(['locale-template', 'de']).status).toBe(2);
    });

    it('DEFAULT_LOCALE and COUNTRY_LOCALES may name it, and only once it is added', () => {
      const none = readLocaleOverrides(undefined);
      expect(() => checkLanguagesInUse(none, { defaultLocale: 'it', countryLocales: {} })).toThrow(
        /DEFAULT_LOCALE: "it" is not a language of the bot .*LOCALES_OVERRIDE_DIR may add one/,
      );
      expect(() => checkLanguagesInUse(none, { defaultLocale: 'en', countryLocales: { CH: 'it' } })).toThrow(/COUNTRY_LOCALES: CH:it/);
      const it = readLocaleOverrides(overrideDir({ 'it.json': italian() }));
      expect(() => checkLanguagesInUse(it, { defaultLocale: 'it', countryLocales: { CH: 'it' } })).not.toThrow();
    });
  });
});
