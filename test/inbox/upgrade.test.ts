import request from 'supertest';
import { sweepRetention } from '../../src/maintenance/sweepRetention';
import { upgradeSchema } from '../../src/maintenance/upgradeSchema';
import { createChatHarness, type ChatHarness } from '../support/chat';
import { signedText } from '../support/whatsapp';

let h: ChatHarness;
beforeEach(async () => {
  h = await createChatHarness('upgrade');
});
afterEach(async () => {
  await h.close();
});

describe('a database written by the version before the open flag', () => {
  it('has its open inbox items found and answered after the upgrade, and the upgrade runs once', async () => {
    const waId = '15550008901';
    const { raw, signature } = signedText(waId, 'STOP');
    // Stored, not yet processed, by an older version: no `open` field.
    await request(h.app).post('/webhook').set('content-type', 'application/json').set('x-hub-signature-256', signature).send(raw).expect(200);
    const inbox = h.db.conn.db!.collection('inbox');
    await inbox.updateMany({}, { $unset: { open: 1 } });
    await h.db.conn.db!.collection('kv').deleteMany({ _id: 'schema.openFlags' as never });
    await h.workers.drain();
    expect(h.fake.deliveredTo(waId)).toHaveLength(0); // invisible to the workers before the upgrade

    await upgradeSchema(h.deps.stores);
    expect(await inbox.countDocuments({ open: true })).toBe(1);
    expect(await h.deps.stores.kv.get('schema.openFlags')).toBe(true);
    await h.workers.drain();
    expect(h.fake.deliveredTo(waId)).toHaveLength(1);
    expect((await h.deps.stores.subscribers.find({ waId }))?.consent).toBe('opted_out');
    expect(await inbox.findOne({})).toMatchObject({ state: 'done', open: false });

    // Later starts find the marker and touch nothing…
    await inbox.updateMany({}, { $unset: { open: 1 }, $set: { state: 'pending' } });
    await upgradeSchema(h.deps.stores);
    expect(await inbox.countDocuments({ open: true })).toBe(0);
    // …but an older replica still running beside this version (a rolling deploy) writes items without the
    // flag: the retention sweep finds them again.
    await sweepRetention(h.deps);
    expect(await inbox.countDocuments({ open: true })).toBe(1);
  });

  it('does not take up again an item an older replica finished without clearing the flag', async () => {
    const waId = '15550008902';
    await h.say(waId, 'STOP');
    expect(h.fake.deliveredTo(waId)).toHaveLength(1);
    // The old version settles without touching `open`: the item says sent, the flag says open.
    const outbox = h.db.conn.db!.collection('outbox');
    const inbox = h.db.conn.db!.collection('inbox');
    await outbox.updateMany({}, { $set: { open: true, leaseUntil: null } });
    await inbox.updateMany({}, { $set: { open: true, leaseUntil: null } });
    await h.workers.drain();
    expect(h.fake.deliveredTo(waId)).toHaveLength(1); // not sent twice
    expect(await outbox.findOne({})).toMatchObject({ state: 'sent', open: false }); // and the flag is put right
    expect(await inbox.findOne({})).toMatchObject({ state: 'done', open: false });
  });
});
