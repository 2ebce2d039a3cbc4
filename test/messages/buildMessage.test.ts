import { Button } from 'whatsapp-api-js/messages';
import type { Translator } from '../../src/i18n/i18n';
import { buildMessage, documentBody, templateBody, textBody, toMessage, type PendingDocumentBody } from '../../src/messages/buildMessage';
import { clip, LIMITS } from '../../src/messages/limits';
import { renderReply } from '../../src/messages/renderReply';
import type { ReplySpec } from '../../src/messages/replySpec';
import { help } from '../../src/rights/help';
import { askLanguage } from '../../src/rights/language';
import { languagesOf } from '../../src/i18n/localeOverrides';
import { questionButtons } from '../../src/rights/questions';
import { metaProblems } from './metaLimits';

/**
 * The builder against translations far over Meta's limits: every body still passes the checker,
 * and what was cut ends in an ellipsis. Without the fitting in buildMessage.ts the library would
 * throw (or, without the library, Meta would refuse the message).
 */
const business = { business: { name: 'Acme Test Shop', supportContact: 'help@acme.test', privacyPolicyUrl: 'https://acme.test/privacy' } };

/** Every key translates to `length` characters starting with the key (so titles stay distinct). */
const longTranslator = (length: number, fill = 'x'): Translator => ({
  locales: ['en'],
  t: (_locale, key) => `${key}:`.padEnd(length, fill),
});

const specs: [string, ReplySpec][] = [
  ['text', { kind: 'text', key: 'optOut.confirmed' }],
  ['lines', { kind: 'lines', lines: Array.from({ length: 3 }, (_, i) => ({ key: `status.line${i}` })) }],
  ['a question', { kind: 'buttons', key: 'erase.question', buttons: questionButtons('erasure', 'AbC_12-xyz90') }],
  ['HELP', help().replies[0]],
  ['LANGUAGE', askLanguage({ policy: { languages: languagesOf({ added: [] }) } }).replies[0]],
  ['a document', { kind: 'document', exportId: 'exp1', captionKey: 'myData.document', filename: 'my-data-2026-11-29.pdf' }],
];

const sent = (body: Record<string, unknown>) => (body.type === 'document' ? documentBody('1000000000000001', body as PendingDocumentBody) : body);

describe('over-long translations', () => {
  it.each(specs)('%s: 40-character titles and 5,000-character bodies still make a message Meta accepts', (_name, spec) => {
    const r = renderReply(longTranslator(5000), business, 'en', spec);
    expect(metaProblems(sent(r.body))).toEqual([]);
  });

  it('cuts button titles to 20 characters with an ellipsis', () => {
    const tr: Translator = {
      locales: ['en'],
      t: (_l, key) => (key.startsWith('erase.') && key !== 'erase.question' ? `${key} ${'long title '.repeat(3)}`.slice(0, 40) : 'Erase everything?'),
    };
    const r = renderReply(tr, business, 'en', specs[2][1]);
    const titles = (r.body as any).interactive.action.buttons.map((b: any) => b.reply.title);
    expect(titles.map((t: string) => t.length)).toEqual([LIMITS.buttonTitle, LIMITS.buttonTitle]);
    expect(titles.every((t: string) => t.endsWith('…'))).toBe(true);
    expect(titles).toEqual(['erase.yes long titl…', 'erase.no long title…']);
    // The ids are the question's own, untouched.
    expect((r.body as any).interactive.action.buttons.map((b: any) => b.reply.id)).toEqual(['erase.yes.AbC_12-xyz90', 'erase.no.AbC_12-xyz90']);
  });

  it('cuts list texts: button 20, section 24, row titles 24, descriptions 72, body 1024', () => {
    const r = renderReply(longTranslator(40), business, 'en', help().replies[0]);
    const list = (r.body as any).interactive;
    expect(list.action.button).toHaveLength(20);
    expect(list.action.sections[0].title).toHaveLength(24);
    for (const row of list.action.sections[0].rows) {
      expect(row.title).toHaveLength(24);
      expect(row.description).toBe(`help.${row.id === 'help.my_data' ? 'myData' : row.id.slice(5)}.description:`.padEnd(40, 'x'));
    }
    const long = renderReply(longTranslator(200), business, 'en', help().replies[0]);
    expect((long.body as any).interactive.action.sections[0].rows[0].description).toHaveLength(72);
    expect((renderReply(longTranslator(5000), business, 'en', help().replies[0]).body as any).interactive.body.text).toHaveLength(1024);
  });

  it('the library itself refuses a 21-character title: fitting must come first', () => {
    expect(() => new Button('help.stop', 'x'.repeat(21))).toThrow();
  });

  it('cuts a text at 4,096 and a caption at 1,024', () => {
    expect((renderReply(longTranslator(5000), business, 'en', specs[0][1]).body as any).text.body).toHaveLength(4096);
    const doc = renderReply(longTranslator(5000), business, 'en', specs[5][1]);
    expect((doc.body as any).document.caption).toHaveLength(1024);
    expect((doc.body as any).exportId).toBe('exp1');
  });

  it('never leaves half of an emoji', () => {
    const thumbs: Translator = { locales: ['en'], t: (_l, key) => `${key} ${'👍'.repeat(30)}` };
    const r = renderReply(thumbs, business, 'en', specs[2][1]);
    expect(metaProblems(r.body)).toEqual([]);
    expect((r.body as any).interactive.action.buttons[0].reply.title).toBe('erase.yes 👍👍👍👍…');
    const flags = clip('🇵🇹'.repeat(10), 20);
    expect(flags).toBe(`${'🇵🇹'.repeat(4)}…`);
  });
});

describe('clip', () => {
  it.each([
    ['short', 20, 'short'],
    ['exactly twenty chars', 20, 'exactly twenty chars'],
    ['twenty-one characters', 20, 'twenty-one characte…'],
    ['word      then', 8, 'word…'],
    ['ab👍cd', 4, 'ab…'],
    ['👨‍👩‍👧 family', 9, '👨‍👩‍👧…'],
  ])('%p in %d', (s, max, expected) => {
    const out = clip(s, max);
    expect(out).toBe(expected);
    expect(out.length).toBeLessThanOrEqual(max);
  });
});

describe('a question the library refuses', () => {
  it('two answers whose titles clip to the same 20 characters still reach the person, as text listing both', () => {
    // A translation edit could make "Yes, erase everything…" and "Yes, erase everything but…" one title.
    const same: Translator = { locales: ['en'], t: (_l, key) => (key === 'erase.question' ? 'Erase all your data?' : 'Yes, erase everything I have written') };
    const r = renderReply(same, business, 'en', { kind: 'buttons', key: 'erase.question', buttons: questionButtons('erasure', 'AbC_12-xyz90') });
    expect(r.kind).toBe('text');
    expect(r.body).toMatchObject({
      type: 'text',
      text: { body: 'Erase all your data?\n• Yes, erase everything I have written\n• Yes, erase everything I have written' },
    });
    expect(metaProblems(r.body)).toEqual([]);
  });

  it('a list with a row title of spaces only lists the rows that have a title', () => {
    const blank: Translator = { locales: ['en'], t: (_l, key) => (key.startsWith('help.stop') ? '   ' : key === 'help.body' ? 'What can I do for you?' : key) };
    const r = renderReply(blank, business, 'en', help().replies[0]);
    expect(r.kind).toBe('text');
    expect(String((r.body as unknown as { text: { body: string } }).text.body)).toMatch(
      /^What can I do for you\?\n• help\.start\.title — help\.start\.description\n/,
    );
  });
});

describe('what the outbox sends', () => {
  it('a reply is the library message as JSON, with what staff see', () => {
    const tr: Translator = {
      locales: ['en'],
      t: (_l, key) => ({ 'erase.question': 'Erase all your data?', 'erase.yes': 'Yes, erase', 'erase.no': 'Cancel' })[key] ?? key,
    };
    expect(buildMessage({ kind: 'buttons', body: 'Erase all your data?', buttons: [{ id: { kind: 'menu', choice: 'delete' }, title: 'Yes' }] }).kind).toBe(
      'interactive',
    );
    const r = renderReply(tr, business, 'en', specs[2][1]);
    expect(r).toEqual({
      kind: 'interactive',
      body: {
        type: 'interactive',
        interactive: {
          type: 'button',
          body: { text: 'Erase all your data?' },
          action: {
            buttons: [
              { type: 'reply', reply: { id: 'erase.yes.AbC_12-xyz90', title: 'Yes, erase' } },
              { type: 'reply', reply: { id: 'erase.no.AbC_12-xyz90', title: 'Cancel' } },
            ],
          },
        },
      },
      display: 'Erase all your data?\n[Yes, erase] [Cancel]',
    });
    expect(JSON.parse(JSON.stringify(toMessage({ kind: 'text', body: 'hi' })))).toEqual({ body: 'hi' });
  });

  it('free text, the utility template and an uploaded document', () => {
    expect(textBody('Hello')).toEqual({ type: 'text', text: { body: 'Hello' } });
    expect(templateBody('privacy_update', 'pt')).toMatchObject({ type: 'template', template: { name: 'privacy_update', language: { code: 'pt' } } });
    const pending = buildMessage({ kind: 'document', exportId: 'e1', filename: 'my-data.pdf', caption: 'Your data' }).body as PendingDocumentBody;
    expect(pending).toEqual({ type: 'document', exportId: 'e1', document: { filename: 'my-data.pdf', caption: 'Your data' } });
    expect(documentBody('42', pending)).toEqual({ type: 'document', document: { id: '42', filename: 'my-data.pdf', caption: 'Your data' } });
    for (const b of [textBody('Hello'), templateBody('privacy_update', 'pt'), documentBody('42', pending)]) expect(metaProblems(b)).toEqual([]);
  });

  it('never sends a list Meta would refuse: a list whose only row has no title goes as its text', () => {
    const r = buildMessage({ kind: 'list', body: 'b', button: 'Open', section: 'S', rows: [{ id: { kind: 'menu', choice: 'stop' }, title: ' ' }] });
    expect(r).toMatchObject({ kind: 'text', body: { type: 'text', text: { body: 'b' } } });
  });
});
