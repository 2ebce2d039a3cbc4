import { bodyText, createChatHarness, type ChatHarness } from '../support/chat';

/**
 * A message the bot cannot act on is answered once a day with a hint, in the language it was
 * written in when its greeting or polite words say so ("Hola, …"), and marked for a human. The
 * guess is for that reply only: it is not remembered as the person's language.
 */
let h: ChatHarness;
beforeAll(async () => {
  h = await createChatHarness('free-text-hint');
});
afterAll(() => h.close());

describe('the hint for free text', () => {
  it.each([
    ['es', '15550110001', 'Hola, mi pedido llegó roto'],
    ['fr', '15550110002', "Bonjour, j'ai une question sur ma commande"],
    ['de', '15550110003', 'Hallo, wo ist mein Paket?'],
    ['pt', '15550110004', 'Olá, meu pedido não chegou'],
    ['id', '15550110005', 'Halo, paket saya rusak'],
    ['en', '15550110006', 'Hi, where is my parcel?'],
  ])('is in %s (from %s: "%s"), and the conversation needs a human', async (locale, waId, text) => {
    // A +1 number: its country would say English; the greeting says otherwise.
    expect((await h.say(waId, text)).map(bodyText)).toEqual([h.t(locale, 'hint.unknown')]);
    const s = await h.deps.stores.subscribers.find({ waId });
    expect(s?.locale ?? null).toBeNull();
    expect(s?.needsHumanAt).toEqual(h.clock.now());
  });

  it('a language the person chose wins over a greeting', async () => {
    await h.say('15550110007', 'SPRACHE');
    await h.say('15550110007', 'Deutsch');
    expect((await h.say('15550110007', 'Hola, una pregunta')).map(bodyText)).toEqual([h.t('de', 'hint.unknown')]);
  });
});
