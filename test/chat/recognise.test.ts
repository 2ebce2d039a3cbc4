import { cpSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Intent } from '../../src/chat/intents';
import { loadKeywordPacks } from '../../src/chat/keywordPacks';
import { recognise } from '../../src/chat/recognise';
import type { Locale } from '../../src/i18n/locales';
import { normalise } from '../../src/chat/normalise';

const packs = loadKeywordPacks();

// [message, expected locale, preferred locales]
type Row = [string, Locale, Locale[]];
const row = (text: string, locale: Locale, preferred: Locale[] = []): Row => [text, locale, preferred];

const intentRows: Record<Intent, Row[]> = {
  opt_out: [
    row('Stop.', 'en'),
    row('stop please', 'en'),
    row('ＳＴＯＰ', 'en'),
    row('STOP 🛑', 'en'),
    row('s\u200Btop', 'en'),
    row('\uFEFFSTOP\u2060', 'en'),
    row('  STOP  ', 'en'),
    row('Opt-Out', 'en'),
    row('OPT OUT', 'en'),
    row('STOPALL', 'en'),
    row('stop all', 'en'),
    row('please stop, thanks', 'en'),
    row('I want to unsubscribe', 'en'),
    row('CANCEL', 'en'),
    row('END', 'en'),
    row('quit', 'en'),
    row('REVOKE', 'en'),
    row('optout', 'en'),
    row('Quiero darme de baja', 'es'),
    row('no más', 'es'),
    row('NO MAS', 'es'),
    row('BAJA', 'es'),
    row('alto', 'es'),
    row('dar de baja por favor', 'es'),
    row('PARAR', 'es'),
    row('PARAR', 'pt', ['pt']),
    row('SAIR', 'pt'),
    row('descadastrar', 'pt'),
    row('quero sair, obrigado', 'pt'),
    row('ARRÊT', 'fr'),
    row('arret', 'fr'),
    row('DÉSINSCRIRE', 'fr'),
    row("je veux me désabonner s'il vous plaît", 'fr'),
    row('STOP', 'fr', ['fr']),
    row('abmelden bitte', 'de'),
    row('STOPP', 'de'),
    row('Abbestellen', 'de'),
    row('Ich möchte mich abmelden', 'de'),
    row('berhenti langganan', 'id'),
    row('BERHENTI', 'id'),
    row('tolong berhenti', 'id'),
    row('stop', 'id', ['id', 'en']),
  ],
  opt_in: [
    row('START', 'en'),
    row('unstop', 'en'),
    row('Subscribe', 'en'),
    row('start please', 'en'),
    row('Opt-In', 'en'),
    row('ALTA', 'es'),
    row('suscribir', 'es'),
    row('quiero darme de alta', 'es'),
    row('ASSINAR', 'pt'),
    row('voltar', 'pt'),
    row('ABONNER', 'fr'),
    row('démarrer', 'fr'),
    row('DEMARRER', 'fr'),
    row('ANMELDEN', 'de'),
    row('anmelden bitte', 'de'),
    row('START', 'de', ['de']),
    row('MULAI', 'id'),
    row('langganan', 'id'),
    row('saya mau mulai', 'id'),
  ],
  help: [
    row('HELP', 'en'),
    row('help!', 'en'),
    row('Help?', 'en'),
    row('help please', 'en'),
    row('INFO', 'en'),
    row('MENU', 'en'),
    row('AYUDA', 'es'),
    row('ayuda por favor', 'es'),
    row('menú', 'es', ['es']),
    row('AJUDA', 'pt'),
    row('socorro', 'pt'),
    row('AIDE', 'fr'),
    row('aide svp', 'fr'),
    row('HILFE', 'de'),
    row('Hilfe bitte', 'de'),
    row('info', 'de', ['de']),
    row('BANTUAN', 'id'),
    row('tolong bantuan', 'id'),
  ],
  my_data: [
    row('MY DATA', 'en'),
    row('mydata', 'en'),
    row('My data please', 'en'),
    row('my-data', 'en'),
    row('I want to see my data', 'en'),
    row('MIS DATOS', 'es'),
    row('quiero ver mis datos', 'es'),
    row('MEUS DADOS', 'pt'),
    row('meus dados por favor', 'pt'),
    row('MES DONNÉES', 'fr'),
    row('mes donnees', 'fr'),
    row('MEINE DATEN', 'de'),
    row('meine Daten bitte', 'de'),
    row('Auskunft', 'de'),
    row('DATA SAYA', 'id'),
    row('lihat data saya', 'id'),
  ],
  delete: [
    row('DELETE', 'en'),
    row('delete me', 'en'),
    row('ERASE', 'en'),
    row('Forget me!', 'en'),
    row('delete my data please', 'en'),
    row('BORRAR', 'es'),
    row('ELIMINAR', 'es'),
    row('BORRAR MIS DATOS', 'es'),
    row('APAGAR', 'pt'),
    row('EXCLUIR', 'pt'),
    row('APAGAR MEUS DADOS', 'pt'),
    row('eliminar', 'pt', ['pt']),
    row('SUPPRIMER', 'fr'),
    row('EFFACER', 'fr'),
    row('LÖSCHEN', 'de'),
    row('loschen', 'de'),
    row('DATEN LÖSCHEN', 'de'),
    row('HAPUS', 'id'),
    row('HAPUS DATA SAYA', 'id'),
  ],
  status: [
    row('STATUS', 'en'),
    row('status?', 'en'),
    row('my status', 'en'),
    row('Status please', 'en'),
    row('ESTADO', 'es'),
    row('mi estado', 'es'),
    row('estado', 'pt', ['pt']),
    row('SITUAÇÃO', 'pt'),
    row('situacao', 'pt'),
    row('STATUT', 'fr'),
    row('ÉTAT', 'fr'),
    row('etat', 'fr'),
    row('STATUS', 'de', ['de']),
    row('mein Status', 'de'),
    row('STATUS', 'id', ['id']),
    row('status saya', 'id'),
  ],
  language: [
    row('LANGUAGE', 'en'),
    row('language?', 'en'),
    row('change language', 'en'),
    row('Languages', 'en'),
    row('IDIOMA', 'es'),
    row('cambiar idioma', 'es'),
    row('idioma', 'pt', ['pt']),
    row('mudar idioma', 'pt'),
    row('língua', 'pt'),
    row('LANGUE', 'fr'),
    row('langue svp', 'fr'),
    row('SPRACHE', 'de'),
    row('Sprache ändern', 'de'),
    row('BAHASA', 'id'),
    row('ganti bahasa', 'id'),
  ],
  yes: [row('yes', 'en'), row('Yes please', 'en'), row('sí', 'es'), row('si', 'es'), row('sim', 'pt'), row('oui', 'fr'), row('ja', 'de'), row('ya', 'id')],
  no: [
    row('no', 'en'),
    row('No thanks', 'en'),
    row('No', 'es', ['es']),
    row('não', 'pt'),
    row('nao', 'pt'),
    row('non', 'fr'),
    row('nein', 'de'),
    row('tidak', 'id'),
  ],
};

describe('recognise: whole-message keywords', () => {
  describe.each(Object.entries(intentRows) as [Intent, Row[]][])('%s', (intent, rows) => {
    it.each(rows)(`reads %j as ${intent} in %s (preferred %j)`, (text, locale, preferred) => {
      expect(recognise(packs, text, preferred)).toEqual({ kind: 'intent', intent, locale });
    });
  });

  it('answers in the first preferred language that has the phrase', () => {
    expect(recognise(packs, 'cancelar', ['pt'])).toEqual({ kind: 'intent', intent: 'opt_out', locale: 'pt' });
    expect(recognise(packs, 'cancelar', ['es'])).toEqual({ kind: 'intent', intent: 'opt_out', locale: 'es' });
    expect(recognise(packs, 'cancelar', ['de', 'pt'])).toEqual({ kind: 'intent', intent: 'opt_out', locale: 'pt' });
  });

  it('falls back to the first language in LOCALES order when nothing preferred has the phrase', () => {
    expect(recognise(packs, 'stop')).toEqual({ kind: 'intent', intent: 'opt_out', locale: 'en' });
    expect(recognise(packs, 'cancelar', ['fr'])).toEqual({ kind: 'intent', intent: 'opt_out', locale: 'es' });
  });
});

describe('recognise: opt-out words inside a longer message', () => {
  it.each([
    row('we have got to STOP this bill', 'en'),
    row('can you stop sending me offers?', 'en'),
    row('how do I unsubscribe from the newsletter', 'en'),
    row('stop stop stop', 'en'),
    row('¿puedo darme de baja mañana?', 'es'),
    row('quero sair da lista de vocês', 'pt'),
    row('bitte hören Sie auf, ich will mich abmelden', 'de'),
    row('tolong berhenti kirim pesan', 'id'),
    row('can you stop this', 'fr', ['fr']),
  ])('asks before acting on %j (%s, preferred %j)', (text, locale, preferred) => {
    expect(recognise(packs, text, preferred)).toEqual({ kind: 'ambiguous_opt_out', locale });
  });
});

describe('recognise: language choices', () => {
  it.each([
    row('Español', 'es'),
    row('español por favor', 'es'),
    row('deutsch', 'de'),
    row('German', 'de'),
    row('english', 'en'),
    row('ENGLISH', 'en'),
    row('Português', 'pt'),
    row('portugues', 'pt'),
    row('pt', 'pt'),
    row('Français', 'fr'),
    row('français svp', 'fr'),
    row('bahasa indonesia', 'id'),
    row('Indonesian', 'id'),
  ])('takes %j as choosing %s', (text, locale) => {
    expect(recognise(packs, text)).toEqual({ kind: 'language_choice', locale });
  });
});

describe('recognise: everything else', () => {
  it.each([
    'stopwatch for sale',
    'hello',
    'what time do you open',
    '',
    '   ',
    'please',
    'thank you!',
    '🛑',
    'the end of the month is near',
    'I quit smoking last year',
    'nonstop flights to Lisbon',
    "no, I don't think so",
  ])('does not act on %j', (text) => {
    expect(recognise(packs, text)).toMatchObject({ kind: 'unknown' });
  });
});

describe('normalise', () => {
  it.each([
    ['ＳＴＯＰ', 'stop'],
    ['s\u200Bt\u200Co\u200Dp\uFEFF', 'stop'],
    ['ARRÊT', 'arret'],
    ['Situação', 'situacao'],
    ['Straße', 'strasse'],
    ['LÖSCHEN!!!', 'loschen'],
    ['STOP 🛑', 'stop'],
    ['❤️ stop 👍🏽', 'stop'],
    ["s'il vous plaît", 's il vous plait'],
    ['Opt-Out', 'opt out'],
    ['  a \n\t b  ', 'a b'],
    ['Привет, мир!', 'привет мир'],
    ['数据 123', '数据 123'],
    ['안녕하세요', '안녕하세요'],
    ['', ''],
  ])('turns %j into %j', (input, expected) => {
    expect(normalise(input)).toBe(expected);
  });
});

describe('loadKeywordPacks', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'keywords-test-'));
    cpSync(path.resolve(__dirname, '..', '..', 'locales'), dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the packs from a given folder', () => {
    expect(recognise(loadKeywordPacks(dir), 'BAJA')).toEqual({ kind: 'intent', intent: 'opt_out', locale: 'es' });
  });

  it('names the file when a pack is missing', () => {
    const file = path.join(dir, 'de', 'keywords.json');
    unlinkSync(file);
    expect(() => loadKeywordPacks(dir)).toThrow(file);
  });

  it('names the file when a pack is not valid JSON', () => {
    const file = path.join(dir, 'fr', 'keywords.json');
    writeFileSync(file, '{ "opt_out": [');
    expect(() => loadKeywordPacks(dir)).toThrow(file);
  });

  it('names the file and the list when a list is missing or empty', () => {
    const file = path.join(dir, 'id', 'keywords.json');
    writeFileSync(file, JSON.stringify({ opt_out: [] }));
    expect(() => loadKeywordPacks(dir)).toThrow(`${file}: "opt_out"`);
  });
});
