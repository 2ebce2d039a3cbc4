import { encodeButtonId, parseButtonId, type ButtonId } from '../../src/messages/buttonIds';

/**
 * The id protocol: buttons already on people's phones keep being pressed, so the wire spelling of
 * every id is pinned here, and every value reads back as itself.
 */
describe('button and row ids', () => {
  it.each<[ButtonId, string]>([
    [{ kind: 'answer', question: 'erasure', answer: 'yes', nonce: 'AbC_12-xyz90' }, 'erase.yes.AbC_12-xyz90'],
    [{ kind: 'answer', question: 'erasure', answer: 'no', nonce: 'AbC_12-xyz90' }, 'erase.no.AbC_12-xyz90'],
    [{ kind: 'answer', question: 'opt_out_question', answer: 'yes', nonce: 'q1w2e3' }, 'optout.yes.q1w2e3'],
    [{ kind: 'answer', question: 'opt_out_question', answer: 'no', nonce: 'q1w2e3' }, 'optout.no.q1w2e3'],
    [{ kind: 'menu', choice: 'stop' }, 'help.stop'],
    [{ kind: 'menu', choice: 'start' }, 'help.start'],
    [{ kind: 'menu', choice: 'my_data' }, 'help.my_data'],
    [{ kind: 'menu', choice: 'delete' }, 'help.delete'],
    [{ kind: 'menu', choice: 'status' }, 'help.status'],
    [{ kind: 'menu', choice: 'language' }, 'help.language'],
    [{ kind: 'language', locale: 'pt' }, 'lang.pt'],
  ])('%j is sent as %p and read back as itself', (value, wire) => {
    expect(encodeButtonId(value)).toBe(wire);
    expect(parseButtonId(wire)).toEqual(value);
  });

  it.each([
    'erase.yes', // no nonce: a campaign's button, not one of our questions
    'erase.maybe.AbC_12-xyz90',
    'erase.yes.short',
    `erase.yes.${'a'.repeat(33)}`,
    'optout.yes.bad nonce',
    'help.unsubscribe',
    'help.stop ',
    'lang.engl',
    'lang.EN',
    'Yes',
    '',
  ])('%p is not an id we issue', (id) => {
    expect(parseButtonId(id)).toBeNull();
  });

  it('refuses to encode a value it could not read back', () => {
    expect(() => encodeButtonId({ kind: 'answer', question: 'erasure', answer: 'yes', nonce: 'a.b' })).toThrow();
    expect(() => encodeButtonId({ kind: 'language', locale: 'pt_BR' })).toThrow();
  });
});
