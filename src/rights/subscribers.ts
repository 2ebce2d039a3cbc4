import { Types } from 'mongoose';
import type { Deps } from '../deps';
import { isDuplicateKey, type SubscriberDoc } from '../db/models';
import { at } from '../privacy/pii';

export type Subscriber = SubscriberDoc & { _id: Types.ObjectId };

/** A data subject as WhatsApp identifies them: the number (wa_id) and/or the business-scoped user id. */
export interface Identity {
  waId?: string;
  bsuid?: string;
}

/** Where an outbound message goes: a number for `to`, or a BSUID for `recipient`. */
export type Recipient = { phone: string } | { bsuid: string };

export const waIdentity = (waId: string) => `wa:${waId.replace(/\D/g, '')}`;

/** The pseudonymous token of a person: the blind index of their number (or BSUID when no number). */
export function tokenOf(deps: Deps, id: Identity): string {
  return deps.pii.blindIndex(id.waId ? waIdentity(id.waId) : `bsuid:${id.bsuid}`);
}

const sealed = (deps: Deps, id: Types.ObjectId, field: 'waIdEnc' | 'bsuidEnc' | 'nameEnc', value: string) => deps.pii.encrypt(value, at('subscribers', field, id));

/** A sealed field of a subscriber, opened (null when absent). */
export function openField(deps: Deps, s: Subscriber, field: 'waIdEnc' | 'bsuidEnc' | 'nameEnc'): string | null {
  const v = s[field];
  return v ? deps.pii.decrypt(v, at('subscribers', field, s._id)) : null;
}

export async function findSubscriber(deps: Deps, id: Identity): Promise<Subscriber | null> {
  const { Subscriber } = deps.models;
  if (id.waId) {
    const s = await Subscriber.findOne({ key: tokenOf(deps, { waId: id.waId }) }).lean();
    if (s) return s as Subscriber;
  }
  if (id.bsuid) return (await Subscriber.findOne({ bsuidKey: deps.pii.blindIndex(`bsuid:${id.bsuid}`) }).lean()) as Subscriber | null;
  return null;
}

/**
 * Finds or creates the subscriber for an inbound message, refreshing the profile name, the
 * 24-hour customer-service window (Meta: free-form replies are allowed for 24 h after the
 * person's last message; a late redelivery never shortens it), the business number they wrote to,
 * and the BSUID when Meta starts sending one.
 *
 * Returns null for a message older than the person's erasure (a late first delivery of something
 * written before it): an erased person is not re-created from what they wrote before erasing. Also
 * null for a sandbox message about someone the sandbox did not create (checked at the simulator's
 * door too; a profile may have been created through WhatsApp or the API in between).
 */
export async function touchSubscriber(
  deps: Deps,
  id: Identity,
  seen: { name?: string; at: Date; businessNumberId?: string; origin?: 'whatsapp' | 'sandbox' },
): Promise<Subscriber | null> {
  const { Subscriber } = deps.models;
  const now = deps.clock.now();
  const existing = await findSubscriber(deps, id);
  if (existing && seen.origin === 'sandbox' && existing.origin !== 'sandbox') return null;
  const _id = existing?._id ?? new Types.ObjectId();
  const set: Record<string, unknown> = { lastActivityAt: now, unanswered: true };
  // The number written to last: a late redelivery of an older message does not change it.
  if (seen.businessNumberId && (!existing?.lastInboundAt || existing.lastInboundAt <= seen.at)) set.businessNumberId = seen.businessNumberId;
  if (seen.name) set.nameEnc = sealed(deps, _id, 'nameEnc', seen.name);
  if (id.bsuid) {
    set.bsuidKey = deps.pii.blindIndex(`bsuid:${id.bsuid}`);
    set.bsuidEnc = sealed(deps, _id, 'bsuidEnc', id.bsuid);
  }
  const window = { lastInboundAt: seen.at, windowUntil: new Date(seen.at.getTime() + 24 * 3600_000) };
  if (existing) {
    if (id.waId && !existing.waIdEnc) {
      set.waIdEnc = sealed(deps, _id, 'waIdEnc', id.waId);
      // A person first known by username: once their number is known, it is their key (their items,
      // suppression and API lookups all go by the number's token), unless someone else holds it.
      const numberKey = tokenOf(deps, { waId: id.waId });
      if (!(await Subscriber.exists({ key: numberKey }))) {
        set.key = numberKey;
        await deps.models.Inbox.updateMany({ subscriberKey: existing.key }, { $set: { subscriberKey: numberKey } });
        await deps.models.Request.updateMany({ subscriberToken: existing.key }, { $set: { subscriberToken: numberKey } });
      }
    }
    return (await Subscriber.findOneAndUpdate({ _id }, { $set: set, $max: window }, { returnDocument: 'after' }).lean()) as Subscriber;
  }
  const key = tokenOf(deps, id);
  const suppression = await deps.models.Suppression.findById(key, { at: 1 }).lean();
  // WhatsApp timestamps are whole seconds: only a message from an earlier second than the erasure is dropped.
  if (suppression && Math.floor(suppression.at.getTime() / 1000) > Math.floor(seen.at.getTime() / 1000)) return null;
  return createProfile(deps, id, { _id, key, origin: seen.origin ?? 'whatsapp', ...window, ...set });
}

/**
 * A subscriber known from another system (integration API) rather than from a message: created
 * with the number only, no window and no profile name.
 */
export async function touchProfile(deps: Deps, id: Identity): Promise<Subscriber> {
  const existing = await findSubscriber(deps, id);
  if (existing) return existing;
  const now = deps.clock.now();
  return createProfile(deps, id, { _id: new Types.ObjectId(), key: tokenOf(deps, id), origin: 'api', lastActivityAt: now });
}

/**
 * Inserts a profile. A marketing stop Meta told us about before we knew the person (an opt-out
 * signal) becomes their consent state, at the time they acted, so an older consent cannot undo it.
 */
async function createProfile(deps: Deps, id: Identity, fields: Record<string, unknown> & { _id: Types.ObjectId; key: string }): Promise<Subscriber> {
  const now = deps.clock.now();
  const signal = await deps.models.OptOutSignal.findById(fields.key).lean();
  const doc = {
    waIdEnc: id.waId ? sealed(deps, fields._id, 'waIdEnc', id.waId) : null,
    bsuidKey: null,
    bsuidEnc: null,
    nameEnc: null,
    locale: null,
    consent: signal ? 'opted_out' : 'none',
    consentAt: signal?.at ?? null,
    hintSentAt: null,
    pausedByStaff: false,
    pending: null,
    createdAt: now,
    ...fields,
  };
  try {
    await deps.models.Subscriber.create(doc);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return (await findSubscriber(deps, id)) as Subscriber; // created meanwhile by another replica
  }
  if (signal) {
    await deps.models.Consent.collection
      .insertOne({ _id: `${String(fields._id)}:signal` as never, subscriberId: fields._id, action: 'withdraw', scope: 'marketing', source: signal.source, detailEnc: null, at: signal.at })
      .catch((err) => {
        if (!isDuplicateKey(err)) throw err;
      });
    await deps.models.OptOutSignal.deleteOne({ _id: fields.key });
  }
  return (await deps.models.Subscriber.findById(fields._id).lean()) as Subscriber;
}

/** Recipient of outbound messages: the number, or the BSUID of a username user. */
export function recipientOf(deps: Deps, s: Subscriber): Recipient {
  const waId = openField(deps, s, 'waIdEnc');
  return waId ? { phone: `+${waId}` } : { bsuid: openField(deps, s, 'bsuidEnc') ?? '' };
}

/** The business number to write to this person from: the one they last wrote to. */
export function senderOf(deps: Deps, s: Pick<Subscriber, 'businessNumberId'>): string {
  const ours = deps.config.whatsapp.phoneNumberIds;
  return s.businessNumberId && ours.includes(s.businessNumberId) ? s.businessNumberId : ours[0];
}
