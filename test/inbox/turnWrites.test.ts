import { createChatHarness, type ChatHarness } from '../support/chat';
import { envelope, messagesChange, textMessage } from '../support/whatsapp';

/**
 * A conversation turn writes the person's profile as few times as it can (issue 16): the refresh
 * every message brings (profile name, 24-hour window, business number) rides along with the turn's
 * consent change or with the reservation of its replies' places, instead of being a write of its
 * own. What is written must be the same as before.
 */
let h: ChatHarness;
beforeAll(async () => {
  h = await createChatHarness('turnwrites');
});
afterAll(async () => {
  await h.close();
});

/** The subscribers' writes this connection sends while `fn` runs (by method). */
async function subscriberWrites(fn: () => Promise<unknown>): Promise<string[]> {
  const writes: string[] = [];
  h.db.conn.set('debug', (collection: string, method: string) => {
    if (collection === 'subscribers' && /update|findOneAndUpdate|bulkWrite|replace/i.test(method)) writes.push(method);
  });
  try {
    await fn();
  } finally {
    h.db.conn.set('debug', false);
  }
  return writes;
}

const profileOf = (waId: string) => h.deps.stores.subscribers.find({ waId });

describe("a turn's writes to the person's profile", () => {
  it('a STOP from a known person: one write, the consent change, carries the refresh and the reply’s place', async () => {
    const waId = '15550007701';
    expect(await h.say(waId, 'hello', { name: 'Ana' })).toHaveLength(1); // the hint creates the profile
    const before = (await profileOf(waId))!;
    h.clock.advance(3 * 3600_000);
    const writes = await subscriberWrites(async () => expect(await h.say(waId, 'STOP', { name: 'Ana Maria' })).toHaveLength(1));
    const after = (await profileOf(waId))!;
    expect(after.consent).toBe('opted_out');
    // The refresh is there: the new profile name, the window moved on, answered.
    expect(h.deps.stores.subscribers.open(after, 'nameEnc')).toBe('Ana Maria');
    expect(after.windowUntil!.getTime()).toBe(before.windowUntil!.getTime() + 3 * 3600_000);
    expect(after.lastInboundAt!.getTime()).toBe(before.lastInboundAt!.getTime() + 3 * 3600_000);
    expect(after.unanswered).toBe(false);
    expect(after.outOrder).toBeGreaterThan(before.outOrder ?? 0);
    // One write (the consent change, with the refresh and the reply's place), not a read-and-write.
    expect(writes).toEqual(['updateOne']);
  });

  it('an unknown message that is hinted: the refresh goes with the hint’s mark, one more write places the reply', async () => {
    const waId = '15550007702';
    await h.say(waId, 'hello');
    h.clock.advance(25 * 3600_000); // a new hint is due after 24 h
    const writes = await subscriberWrites(async () => expect(await h.say(waId, 'what is this', { name: 'Bo' })).toHaveLength(1));
    const after = (await profileOf(waId))!;
    expect(h.deps.stores.subscribers.open(after, 'nameEnc')).toBe('Bo');
    expect(after.windowUntil!.getTime()).toBeGreaterThan(h.clock.now().getTime() + 23 * 3600_000);
    expect(after.unanswered).toBe(false);
    // The hint's mark carries the refresh, then the reply's place: no write of the refresh alone.
    expect(writes).toEqual(['updateOne', 'updateOne']);
  });

  it('a message that gets no answer still has its refresh written, and the person shows as unanswered', async () => {
    const waId = '15550007703';
    await h.say(waId, 'hello');
    h.clock.advance(3600_000);
    // Within 24 h of the hint, an unknown message is answered by nobody (staff see it).
    const writes = await subscriberWrites(async () => expect(await h.say(waId, 'just chatting', { name: 'Cy' })).toHaveLength(0));
    const after = (await profileOf(waId))!;
    expect(h.deps.stores.subscribers.open(after, 'nameEnc')).toBe('Cy');
    expect(after.unanswered).toBe(true);
    expect(after.lastInboundAt!.getTime()).toBe(Math.floor(h.clock.now().getTime() / 1000) * 1000);
    expect(writes).toEqual(['updateOne']);
  });

  it('a STOP older than the START that followed it changes nothing, is not answered, and the person shows as unanswered', async () => {
    const waId = '15550007704';
    await h.say(waId, 'START');
    const stateBefore = (await profileOf(waId))!;
    const older = Math.floor(h.clock.now().getTime() / 1000) - 60; // written a minute before the START, delivered late
    h.newReplies(waId);
    await h.post(envelope(messagesChange({ waId, name: 'Di Late' }, [textMessage('STOP', { timestamp: older })])));
    expect(h.newReplies(waId)).toHaveLength(0);
    const after = (await profileOf(waId))!;
    expect(after.consent).toBe('opted_in');
    // The refresh the late message brought is written all the same (it waited for the consent change, which did not apply).
    expect(h.deps.stores.subscribers.open(after, 'nameEnc')).toBe('Di Late');
    expect(after.consentAt!.getTime()).toBe(stateBefore.consentAt!.getTime());
    expect(after.unanswered).toBe(true);
    // The history still has the late STOP, superseded.
    const request = await h.deps.models.Request.findOne({ type: 'opt_out', subscriberToken: after.key }).lean();
    expect(request).toMatchObject({ state: 'done', outcome: 'superseded by a newer choice' });
  });

  it('a consent change that does not apply keeps what the turn staged while it was out (another caller, same process)', async () => {
    const waId = '15550007705';
    await h.say(waId, 'START');
    const subscribers = h.deps.stores.subscribers;
    const s = (await profileOf(waId))!;
    const now = h.clock.now();
    // A turn's refresh is staged…
    const refreshed = await subscribers.recordInbound(s, { at: now, now, name: 'Eve Staged' });
    // …another caller's consent change, older than the person's own, takes it along and will not apply…
    const late = subscribers.applyConsent(s._id, 'opted_out', new Date(now.getTime() - 3600_000));
    // …while the turn stages its reply's places.
    const floor = now.getTime() * 100;
    subscribers.expectAnswer(refreshed, floor);
    expect(await late).toBe(false);
    const first = Math.max(floor, (s.outOrder ?? 0) + 1); // after the START's reply
    expect(await subscribers.answerTurn(refreshed, floor, 1, true)).toBe(first);
    await subscribers.endTurn(s._id);
    const after = (await profileOf(waId))!;
    expect(after.consent).toBe('opted_in');
    expect(h.deps.stores.subscribers.open(after, 'nameEnc')).toBe('Eve Staged');
    expect(after.outOrder).toBeGreaterThanOrEqual(first); // the reservation was not lost
    expect(after.unanswered).toBe(false);
  });
});
