import { bodyText, createChatHarness, type ChatHarness } from '../support/chat';
import { at } from '../../src/privacy/pii';

/**
 * Every intent through the whole product: a signed webhook delivery, the inbox worker, the use
 * case on the real database, the outbox worker and the Graph API (fake, on loopback).
 */
let h: ChatHarness;
let n = 0;
const nextNumber = () => `1555300${String(++n).padStart(4, '0')}`;

beforeAll(async () => {
  h = await createChatHarness('keywords');
});
afterAll(() => h.close());

async function subscriber(waId: string) {
  return h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${waId}`) }).lean();
}
async function ledgerEvents(waId: string) {
  return (
    await h.deps.models.Ledger.find({ subscriberToken: h.deps.pii.blindIndex(`wa:${waId}`) })
      .sort({ seq: 1 })
      .lean()
  ).map((e) => e.event);
}

describe('STOP in any language, any form', () => {
  it.each([
    ['STOP', 'en'],
    ['Stop.', 'en'],
    ['stop please', 'en'],
    ['ＳＴＯＰ', 'en'],
    ['STOP 🛑', 'en'],
    ['  s\u200Btop  ', 'en'],
    ['UNSUBSCRIBE', 'en'],
    ['opt-out', 'en'],
    ['OPT OUT', 'en'],
    ['stop all', 'en'],
    ['Quiero darme de baja', 'es'],
    ['BAJA', 'es'],
    ['no más', 'es'],
    ['PARAR por favor', 'es'],
    ['descadastrar', 'pt'],
    ['ARRÊT', 'fr'],
    ['désabonner merci', 'fr'],
    ['abmelden bitte', 'de'],
    ['STOPP', 'de'],
    ['berhenti langganan', 'id'],
  ])('%p withdraws marketing consent at once and confirms once in %s', async (text, locale) => {
    const waId = nextNumber();
    const replies = await h.say(waId, text);

    const s = await subscriber(waId);
    expect(s).toMatchObject({ consent: 'opted_out', locale });
    const consents = await h.deps.models.Consent.find({ subscriberId: s!._id }).lean();
    expect(consents).toEqual([expect.objectContaining({ action: 'withdraw', source: 'keyword', scope: 'marketing' })]);
    expect(replies).toHaveLength(1);
    expect(bodyText(replies[0])).toBe(h.t(locale, 'optOut.confirmed'));
    expect(await ledgerEvents(waId)).toEqual(['opt_out.received', 'opt_out.done']);
    const req = await h.deps.models.Request.findOne({ subscriberToken: s!.key }).lean();
    expect(req).toMatchObject({ type: 'opt_out', state: 'done', channel: 'chat' });
  });

  it('a repeated STOP answers "already unsubscribed" and changes nothing', async () => {
    const waId = nextNumber();
    await h.say(waId, 'STOP');
    const replies = await h.say(waId, 'stop');
    expect(replies.map(bodyText)).toEqual([h.t('en', 'optOut.already')]);
    const s = await subscriber(waId);
    expect(await h.deps.models.Consent.countDocuments({ subscriberId: s!._id })).toBe(1);
    expect(await ledgerEvents(waId)).toEqual(['opt_out.received', 'opt_out.done']);
  });
});

describe('an opt-out word inside a longer sentence', () => {
  it.each([['we have got to STOP this terrible bill'], ['can you stop sending me offers?'], ['¿puedo darme de baja mañana?']])(
    '%p gets one question with buttons and changes nothing until answered',
    async (text) => {
      const waId = nextNumber();
      const replies = await h.say(waId, text);
      expect(replies).toHaveLength(1);
      expect(replies[0].interactive.type).toBe('button');
      const [yes, no] = replies[0].interactive.action.buttons.map((b: any) => b.reply.id);
      expect(replies[0].interactive.action.buttons).toHaveLength(2);
      expect(yes).toEqual(expect.stringMatching(/^optout\.yes\.[\w-]+$/));
      const qid = yes.slice('optout.yes.'.length);
      expect(no).toBe(`optout.no.${qid}`);
      const s = await subscriber(waId);
      // The buttons carry the nonce of the question now waiting.
      expect(s!.pending).toMatchObject({ kind: 'opt_out_question', questionId: qid });
      expect(s!.consent).toBe('none');
      expect(await h.deps.models.Consent.countDocuments({ subscriberId: s!._id })).toBe(0);
    },
  );

  it('answered "Stop messages" opts out; answered "No, continue" keeps everything as it was', async () => {
    const yes = nextNumber();
    await h.say(yes, 'can you stop sending me offers?');
    const r1 = await h.press(yes, 'optout.yes', 'Stop messages');
    expect(r1.map(bodyText)).toEqual([h.t('en', 'optOut.confirmed')]);
    expect((await subscriber(yes))!.consent).toBe('opted_out');

    const no = nextNumber();
    await h.say(no, 'can you stop sending me offers?');
    const r2 = await h.press(no, 'optout.no', 'No, continue');
    expect(r2.map(bodyText)).toEqual([h.t('en', 'optOut.declined')]);
    expect(await subscriber(no)).toMatchObject({ consent: 'none', pending: null });
  });

  it('a typed "yes" alone is no answer: the same question is asked again and nothing changes', async () => {
    const waId = nextNumber();
    const [q] = await h.say(waId, 'can you stop sending me offers?');
    const offered = q.interactive.action.buttons.map((b: any) => b.reply.id);
    const replies = await h.say(waId, 'yes');
    expect(replies).toHaveLength(1);
    expect(replies[0].interactive.body.text).toBe(h.t('en', 'optOut.question'));
    expect(replies[0].interactive.action.buttons.map((b: any) => b.reply.id)).toEqual(offered);
    const s = await subscriber(waId);
    expect(s).toMatchObject({ consent: 'none', pending: { kind: 'opt_out_question' } });
    expect(await h.deps.models.Consent.countDocuments({ subscriberId: s!._id })).toBe(0);
    // Its button still answers it.
    expect((await h.press(waId, 'optout.yes', 'Stop messages')).map(bodyText)).toEqual([h.t('en', 'optOut.confirmed')]);
    expect((await subscriber(waId))!.consent).toBe('opted_out');
  });
});

describe('START and its equivalents', () => {
  it.each([
    ['START', 'en'],
    ['start please', 'en'],
    ['UNSTOP', 'en'],
    ['Subscribe', 'en'],
    ['ＳＴＡＲＴ', 'en'],
    ['opt in', 'en'],
    ['alta', 'es'],
    ['suscribir', 'es'],
    ['dar de alta por favor', 'es'],
    ['assinar', 'pt'],
    ['voltar', 'pt'],
    ["m'abonner", 'fr'],
    ['démarrer', 'fr'],
    ['anmelden', 'de'],
    ['abonnieren bitte', 'de'],
    ['mulai', 'id'],
    ['berlangganan', 'id'],
  ])('%p records an opt-in with its source and time and confirms in %s', async (text, locale) => {
    const waId = nextNumber();
    const replies = await h.say(waId, text);
    const s = await subscriber(waId);
    expect(s).toMatchObject({ consent: 'opted_in' });
    expect(s!.consentAt).toEqual(h.clock.now());
    const consents = await h.deps.models.Consent.find({ subscriberId: s!._id }).lean();
    expect(consents).toEqual([expect.objectContaining({ action: 'grant', source: 'keyword', at: h.clock.now() })]);
    expect(replies.map(bodyText)).toEqual([h.t(locale, 'optIn.confirmed')]);
    expect(await ledgerEvents(waId)).toEqual(['opt_in.received', 'opt_in.done']);
  });

  it('after STOP, START opts back in and both stay in the history', async () => {
    const waId = nextNumber();
    await h.say(waId, 'STOP');
    await h.say(waId, 'START');
    const s = await subscriber(waId);
    expect(s!.consent).toBe('opted_in');
    const history = await h.deps.models.Consent.find({ subscriberId: s!._id }).sort({ at: 1 }).lean();
    expect(history.map((c) => c.action).sort()).toEqual(['grant', 'withdraw']);
  });
});

describe('HELP', () => {
  it.each([
    ['HELP', 'en'],
    ['help please', 'en'],
    ['info', 'en'],
    ['MENU', 'en'],
    ['Help?', 'en'],
    ['ayuda', 'es'],
    ['AYUDA por favor', 'es'],
    ['ajuda', 'pt'],
    ['ajuda por favor', 'pt'],
    ['aide', 'fr'],
    ['AIDE svp', 'fr'],
    ['hilfe', 'de'],
    ['Hilfe bitte', 'de'],
    ['bantuan', 'id'],
    ['tolong bantuan', 'id'],
  ])('%p answers with the list of rights, the business contact and the policy in %s', async (text, locale) => {
    const waId = nextNumber();
    const [reply, ...rest] = await h.say(waId, text);
    expect(rest).toHaveLength(0);
    expect(reply.type).toBe('interactive');
    expect(reply.interactive.type).toBe('list');
    expect(reply.interactive.body.text).toBe(h.t(locale, 'help.body'));
    expect(reply.interactive.body.text).toContain('help@acme.test');
    expect(reply.interactive.body.text).toContain('https://acme.test/privacy');
    expect(reply.interactive.action.sections[0].rows.map((r: any) => r.id)).toEqual([
      'help.stop',
      'help.start',
      'help.my_data',
      'help.delete',
      'help.status',
      'help.language',
    ]);
    expect((await subscriber(waId))!.locale).toBe(locale);
  });
});

describe('STATUS', () => {
  it.each([
    ['STATUS', 'en'],
    ['status please', 'en'],
    ['my status', 'en'],
    ['estado', 'es'],
    ['mi estado', 'es'],
    ['situação', 'pt'],
    ['minha situação', 'pt'],
    ['statut', 'fr'],
    ['état', 'fr'],
    ['mein status', 'de'],
    ['abostatus', 'de'],
    ['status saya', 'id'],
    ['cek status', 'id'],
    ['ＳＴＡＴＵＳ', 'en'],
    ['Status.', 'en'],
  ])('%p tells the consent state and open requests in %s', async (text, locale) => {
    const waId = nextNumber();
    const replies = await h.say(waId, text);
    expect(replies.map(bodyText)).toEqual([`${h.t(locale, 'status.none')}\n${h.t(locale, 'status.noRequests')}`]);
  });

  it('lists an open erasure request with its due date one month out', async () => {
    const waId = nextNumber();
    await h.say(waId, 'STOP');
    await h.say(waId, 'DELETE');
    const [reply] = await h.say(waId, 'STATUS');
    const since = h.clock.now().toISOString().slice(0, 10);
    expect(bodyText(reply)).toContain(h.t('en', 'status.optedOut', { since }));
    expect(bodyText(reply)).toContain('Erasure request');
    expect(bodyText(reply)).toContain('due by 2026-12-29');
  });
});

describe('LANGUAGE', () => {
  it.each([
    ['LANGUAGE', 'en'],
    ['idioma', 'es'],
    ['língua', 'pt'],
    ['langue', 'fr'],
    ['sprache', 'de'],
    ['bahasa', 'id'],
  ])('%p offers the languages as a list', async (text, locale) => {
    const waId = nextNumber();
    const [reply] = await h.say(waId, text);
    expect(reply.interactive.type).toBe('list');
    expect(reply.interactive.body.text).toBe(h.t(locale, 'language.ask'));
    expect(reply.interactive.action.sections[0].rows.map((r: any) => r.id)).toEqual(['lang.en', 'lang.es', 'lang.pt', 'lang.fr', 'lang.de', 'lang.id']);
  });

  it('a choice from the list is remembered and later replies use it', async () => {
    const waId = nextNumber();
    await h.say(waId, 'LANGUAGE');
    const [changed] = await h.press(waId, 'lang.de', 'Deutsch');
    expect(bodyText(changed)).toBe(h.t('de', 'language.changed'));
    expect((await subscriber(waId))!.locale).toBe('de');
    const [hint] = await h.say(waId, 'what time do you open?');
    expect(bodyText(hint)).toBe(h.t('de', 'hint.unknown'));
  });

  it('writing a language name switches to it', async () => {
    const waId = nextNumber();
    const [reply] = await h.say(waId, 'Español');
    expect(bodyText(reply)).toBe(h.t('es', 'language.changed'));
    expect((await subscriber(waId))!.locale).toBe('es');
  });
});

describe('anything else', () => {
  it('gets one short hint pointing to HELP, at most once per 24 h, and stays in the conversation', async () => {
    const waId = nextNumber();
    expect((await h.say(waId, 'what time do you open?')).map(bodyText)).toEqual([h.t('en', 'hint.unknown')]);
    expect(await h.say(waId, 'hello??')).toEqual([]);
    const s = await subscriber(waId);
    const inbound = await h.deps.models.Message.find({ subscriberId: s!._id, direction: 'in' }).sort({ at: 1, seq: 1 }).lean();
    expect(inbound.map((m) => h.deps.pii.decrypt(m.textEnc!, at('messages', 'textEnc', m._id)))).toEqual(['what time do you open?', 'hello??']);
    h.clock.advance(24 * 3600_000 + 1000);
    expect((await h.say(waId, 'anyone?')).map(bodyText)).toEqual([h.t('en', 'hint.unknown')]);
  });

  it('a reaction gets no reply at all', async () => {
    const waId = nextNumber();
    await h.post({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { phone_number_id: '200000000000002' },
                contacts: [{ wa_id: waId, profile: { name: 'R' } }],
                messages: [
                  {
                    from: waId,
                    id: `wamid.react.${waId}`,
                    timestamp: String(Math.floor(h.clock.now().getTime() / 1000)),
                    type: 'reaction',
                    reaction: { message_id: 'x', emoji: '👍' },
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    expect(h.newReplies(waId)).toEqual([]);
  });
});
