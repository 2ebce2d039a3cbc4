import { createTranslator } from '../../src/i18n/i18n';
import { LOCALES, type Locale } from '../../src/i18n/locales';

/**
 * Counts read as people write them, in each language: "1 message", "5 messages", "1 000 000 de
 * mensajes", never "(1 messages)" or "(1 Nachrichten)" (i18next plurals with Intl.PluralRules).
 */
const t = createTranslator();
const summary = (locale: Locale, n: number) =>
  t.t(locale, 'myData.summary', { business: 'Acme', support: 's', policy: 'p', messages: n, messageDays: n, ledgerYears: n });

const EXPECTED: Record<Locale, { one: string[]; five: string[]; million?: string }> = {
  en: { one: ['(1 message)', '1 day after', '1 year.'], five: ['(5 messages)', '5 days after', '5 years.'] },
  es: { one: ['(1 mensaje)', '1 día después', '1 año.'], five: ['(5 mensajes)', '5 días después', '5 años.'], million: '(1000000 de mensajes)' },
  pt: { one: ['(1 mensagem)', '1 dia após', '1 ano.'], five: ['(5 mensagens)', '5 dias após', '5 anos.'], million: '(1000000 de mensagens)' },
  fr: { one: ['(1 message)', '1 jour après', '1 an.'], five: ['(5 messages)', '5 jours après', '5 ans.'], million: '1000000 d’ans.' },
  de: { one: ['(1 Nachricht)', '1 Tag nach', '1 Jahr.'], five: ['(5 Nachrichten)', '5 Tage nach', '5 Jahre.'] },
  id: { one: ['(1 pesan)', '1 hari setelah', '1 tahun.'], five: ['(5 pesan)', '5 hari setelah', '5 tahun.'] },
};

describe.each(LOCALES.map((l) => [l]))('plurals in %s', (locale) => {
  it('says one of a thing in the singular and five in the plural', () => {
    for (const phrase of EXPECTED[locale].one) expect(summary(locale, 1)).toContain(phrase);
    for (const phrase of EXPECTED[locale].five) expect(summary(locale, 5)).toContain(phrase);
  });

  it('leaves no nesting unrendered, in any text', () => {
    for (const n of [0, 1, 2, 5, 1_000_000]) {
      expect(summary(locale, n)).not.toMatch(/\$t\(|\{\{/);
      expect(t.t(locale, 'myData.pdf.messagesNote', { days: n })).not.toMatch(/\$t\(|\{\{/);
    }
  });

  if (EXPECTED[locale].million) {
    it('uses the "many" form its grammar has for a million', () => {
      expect(summary(locale, 1_000_000)).toContain(EXPECTED[locale].million);
    });
  }
});
