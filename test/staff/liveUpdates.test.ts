import { createChatHarness, type ChatHarness } from '../support/chat';

let h: ChatHarness;
beforeEach(async () => {
  h = await createChatHarness('live-updates');
});
afterEach(() => h.close());

/** What the console's live view hears: the bus's 'conversation' notices (staff/liveFeed.ts). */
function noticesFor(id: string): () => number {
  let n = 0;
  h.deps.bus.on('conversation', (changed: string) => {
    if (changed === id) n += 1;
  });
  return () => n;
}

describe('the staff console hears of every message a person writes', () => {
  it('even one the bot does not answer (a paused conversation)', async () => {
    const waId = '15550007777';
    await h.say(waId, 'START');
    const s = await h.deps.models.Subscriber.findOne({ key: h.deps.pii.blindIndex(`wa:${waId}`) }).lean();
    await h.deps.stores.subscribers.setPaused(s!._id, true);
    const notices = noticesFor(String(s!._id));
    const replies = await h.say(waId, 'is anyone there? I need to talk to a person');
    expect(replies).toEqual([]);
    expect(notices()).toBeGreaterThanOrEqual(1);
    const lines = await h.deps.models.Message.find({ subscriberId: s!._id, direction: 'in' }).sort({ at: 1 }).lean();
    expect(lines.map((l) => l.intent)).toEqual(['opt_in', 'unknown']);
  });
});
