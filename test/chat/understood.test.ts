import { bodyText, createChatHarness, type ChatHarness } from '../support/chat';
import { envelope, messagesChange } from '../support/whatsapp';

/**
 * Understood as the person meant it: the language of a word shared by several languages comes
 * from the person's country, captions are text, an opt-out sentence from someone already opted out
 * gets the short answer, and a late message is not answered with a send that cannot succeed.
 */
let h: ChatHarness;
beforeEach(async () => {
  h = await createChatHarness('understood');
});
afterEach(() => h.close());

const subscriber = (waId: string) => h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${waId}`) }).lean();
const ts = (offsetSeconds = 0) => String(Math.floor(h.clock.now().getTime() / 1000) + offsetSeconds);

describe.each([
  ['PARAR', '5511987654321', 'pt', 'Brazil'],
  ['PARAR', '34612345678', 'es', 'Spain'],
  ['parar', '244923456789', 'pt', 'Angola'],
  ['parar', '5215512345678', 'es', 'Mexico'],
  ['STOP', '33612345678', 'fr', 'France'],
  ['STOP', '4915112345678', 'de', 'Germany'],
  ['STOP', '6281234567890', 'id', 'Indonesia'],
  ['STOP', '15550001234', 'en', 'a number with no country (the default)'],
])('%s from +%s', (word, waId, locale, where) => {
  it(`is answered in ${locale} (${where})`, async () => {
    const replies = await h.say(waId, word);
    expect(replies.map(bodyText)).toEqual([h.t(locale, 'optOut.confirmed')]);
    expect(await subscriber(waId)).toMatchObject({ consent: 'opted_out', locale });
  });
});

describe.each([
  ['BORRAR', '5511987654321', 'es'],
  ['APAGAR', '34612345678', 'pt'],
  ['LÖSCHEN', '5511987654321', 'de'],
  ['HAPUS', '33612345678', 'id'],
])('a word of one language (%s) from +%s', (word, waId, locale) => {
  it(`always answers in that language (${locale})`, async () => {
    const [q] = await h.say(waId, word);
    expect(bodyText(q)).toBe(h.t(locale, 'erase.question'));
  });
});

it('a remembered language wins over the country', async () => {
  const waId = '5511987654322';
  await h.say(waId, 'IDIOMA');
  await h.press(waId, 'lang.es', 'Español');
  expect((await h.say(waId, 'PARAR')).map(bodyText)).toEqual([h.t('es', 'optOut.confirmed')]);
});

describe.each(['image', 'video', 'document'])('a %s captioned STOP', (type) => {
  it('opts out with one confirmation', async () => {
    const waId = '15550030001';
    const media = {
      id: 'M1',
      mime_type: type === 'image' ? 'image/jpeg' : type === 'video' ? 'video/mp4' : 'application/pdf',
      caption: 'STOP',
      ...(type === 'document' ? { filename: 'x.pdf' } : {}),
    };
    await h.post(envelope(messagesChange({ waId }, [{ type, timestamp: ts(), [type]: media }])));
    expect(h.newReplies(waId).map(bodyText)).toEqual([h.t('en', 'optOut.confirmed')]);
    expect(await subscriber(waId)).toMatchObject({ consent: 'opted_out' });
  });

  it('a late MY DATA with a template configured sends one template, not three, and no document', async () => {
    await h.close();
    h = await createChatHarness('understoodtpl2', { env: { UTILITY_TEMPLATE_NAME: 'privacy_update' } });
    const waId = '15550030006';
    await h.post(envelope(messagesChange({ waId }, [{ type: 'text', timestamp: ts(-30 * 3600), text: { body: 'MY DATA' } }])));
    const sent = h.newReplies(waId);
    expect(sent.map((b) => b.type)).toEqual(['template']);
    expect(h.fake.requests.filter((r) => r.path.endsWith('/media'))).toEqual([]);
    const s = await subscriber(waId);
    const notSent = await h.deps.models.Message.find({ subscriberId: s!._id, direction: 'out', status: 'could_not_confirm' }).lean();
    expect(notSent).toHaveLength(2);
  });
});

it('a photo without a caption is not a command', async () => {
  const waId = '15550030002';
  await h.post(envelope(messagesChange({ waId }, [{ type: 'image', timestamp: ts(), image: { id: 'M2', mime_type: 'image/jpeg' } }])));
  expect(h.newReplies(waId).map(bodyText)).toEqual([h.t('en', 'hint.unknown')]);
  expect(await subscriber(waId)).toMatchObject({ consent: 'none' });
});

it('someone already opted out who writes an opt-out sentence gets the short answer, no question', async () => {
  const waId = '15550030003';
  await h.say(waId, 'STOP');
  const replies = await h.say(waId, 'can you stop sending me offers?');
  expect(replies.map(bodyText)).toEqual([h.t('en', 'optOut.already')]);
  expect(replies[0].type).toBe('text');
  expect((await subscriber(waId))!.pending).toBeNull();
});

describe('a STOP whose timestamp is older than 24 hours (a late delivery)', () => {
  it('is carried out and recorded, and queues nothing that cannot be sent', async () => {
    const waId = '15550030004';
    await h.post(envelope(messagesChange({ waId }, [{ type: 'text', timestamp: ts(-30 * 3600), text: { body: 'STOP' } }])));
    expect(h.newReplies(waId)).toEqual([]);
    const s = await subscriber(waId);
    expect(s).toMatchObject({ consent: 'opted_out' });
    expect(await h.deps.models.Outbox.countDocuments({})).toBe(0);
    const lines = await h.deps.models.Message.find({ subscriberId: s!._id, direction: 'out' }).lean();
    expect(lines).toHaveLength(1);
    expect(lines[0].status).toBe('could_not_confirm');
    expect(await h.deps.models.Request.findOne({ type: 'opt_out' }).lean()).toMatchObject({ state: 'done' });
  });

  it('with a utility template configured, is confirmed with that template', async () => {
    await h.close();
    h = await createChatHarness('understoodtpl', { env: { UTILITY_TEMPLATE_NAME: 'privacy_update' } });
    const waId = '15550030005';
    await h.post(envelope(messagesChange({ waId }, [{ type: 'text', timestamp: ts(-30 * 3600), text: { body: 'STOP' } }])));
    const sent = h.newReplies(waId);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: 'template', template: { name: 'privacy_update', language: { code: 'en' } } });
    expect(await subscriber(waId)).toMatchObject({ consent: 'opted_out' });
  });
});
