import { Types } from 'mongoose';
import type { Identity, Origin, Recipient, Subscriber } from '../store/subscriberStore';
import type { SubjectIdentity, RightsContext } from './context';

type Ctx = Pick<RightsContext, 'subscribers' | 'suppressions' | 'consents' | 'inbox' | 'requests' | 'clock'>;

/**
 * Finds or creates the subscriber for an inbound message, refreshing the profile name, the
 * 24-hour customer-service window, the business number they wrote to, and the BSUID when Meta
 * starts sending one (store/subscriberStore.ts).
 *
 * Returns null for a message older than the person's erasure (a late first delivery of something
 * written before it): an erased person is not re-created from what they wrote before erasing. Also
 * null for a sandbox message about someone the sandbox did not create (checked at the simulator's
 * door too; a profile may have been created through WhatsApp or the API in between).
 */
export async function touchSubscriber(
  ctx: Ctx,
  id: Identity,
  seen: { name?: string; at: Date; businessNumberId?: string; origin?: 'whatsapp' | 'sandbox' },
): Promise<Subscriber | null> {
  const { subscribers } = ctx;
  const now = ctx.clock.now();
  const existing = await subscribers.find(id);
  if (existing && seen.origin === 'sandbox' && existing.origin !== 'sandbox') return null;
  if (existing) {
    let newKey: string | undefined;
    const firstNumber = id.waId && !existing.waIdEnc ? id.waId : undefined;
    if (firstNumber) {
      // A person first known by username: once their number is known, it is their key (their items,
      // suppression and API lookups all go by the number's token), unless someone else holds it.
      const numberKey = subscribers.tokenOf({ waId: firstNumber });
      if (!(await subscribers.keyTaken(numberKey))) {
        newKey = numberKey;
        await ctx.inbox.rekey(existing.key, numberKey);
        await ctx.requests.rekey(existing.key, numberKey);
      }
    }
    return subscribers.recordInbound(existing, { ...seen, now, bsuid: id.bsuid, waId: firstNumber, newKey });
  }
  const key = subscribers.tokenOf(id);
  const erasedAt = await ctx.suppressions.suppressedAt(key);
  // WhatsApp timestamps are whole seconds: only a message from an earlier second than the erasure is dropped.
  if (erasedAt && Math.floor(erasedAt.getTime() / 1000) > Math.floor(seen.at.getTime() / 1000)) return null;
  return createProfile(ctx, id, {
    key,
    origin: seen.origin ?? 'whatsapp',
    name: seen.name,
    businessNumberId: seen.businessNumberId,
    window: { lastInboundAt: seen.at, windowUntil: new Date(seen.at.getTime() + 24 * 3600_000) },
  });
}

/**
 * A subscriber known from another system (integration API) rather than from a message: created
 * with the number only, no window and no profile name.
 */
export async function touchProfile(ctx: Ctx, id: Identity): Promise<Subscriber> {
  return (await ctx.subscribers.find(id)) ?? createProfile(ctx, id, { key: ctx.subscribers.tokenOf(id), origin: 'api' });
}

/**
 * Inserts a profile. A marketing stop Meta told us about before we knew the person (an opt-out
 * signal) becomes their consent state, at the time they acted, so an older consent cannot undo it.
 */
async function createProfile(
  ctx: Ctx,
  id: Identity,
  f: { key: string; origin: Origin; name?: string; businessNumberId?: string; window?: { lastInboundAt: Date; windowUntil: Date } },
): Promise<Subscriber> {
  const _id = new Types.ObjectId();
  const signal = await ctx.suppressions.signalOf(f.key);
  const created = await ctx.subscribers.create(id, { ...f, _id, now: ctx.clock.now(), consent: signal ? { state: 'opted_out', at: signal.at } : null });
  if (!created) return (await ctx.subscribers.find(id)) as Subscriber; // created meanwhile by another replica
  if (signal) {
    await ctx.consents.record({ id: `${String(_id)}:signal`, subscriberId: _id, action: 'withdraw', source: signal.source, at: signal.at });
    await ctx.suppressions.dropSignals([f.key]);
  }
  return created;
}

/** The business number to write to this person from: the one they last wrote to, if it is still ours. */
export function senderOf(ctx: Pick<RightsContext, 'policy'>, s: Pick<Subscriber, 'businessNumberId'>): string {
  const ours = ctx.policy.phoneNumberIds;
  return s.businessNumberId && ours.includes(s.businessNumberId) ? s.businessNumberId : ours[0];
}

/** Who a person is, for the events other systems are told (RightsContext.announce): from their profile. */
export function identityOf(ctx: Pick<RightsContext, 'subscribers'>, s: Subscriber): () => SubjectIdentity {
  return () => ({ waId: ctx.subscribers.open(s, 'waIdEnc'), bsuid: ctx.subscribers.open(s, 'bsuidEnc') });
}

/** The same from where a message to them goes (an erasure job keeps only that once the profile is gone). */
export function identityOfRecipient(to: Recipient): SubjectIdentity {
  return 'phone' in to ? { waId: to.phone.replace(/\D/g, '') } : { bsuid: to.bsuid };
}
