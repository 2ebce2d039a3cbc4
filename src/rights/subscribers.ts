import type { Types } from 'mongoose';
import type { Deps } from '../deps';
import { isDuplicateKey, type SubscriberDoc } from '../db/models';

export type Subscriber = SubscriberDoc & { _id: Types.ObjectId };

/** A data subject as WhatsApp identifies them: the number (wa_id) and/or the business-scoped user id. */
export interface Identity {
  waId?: string;
  bsuid?: string;
}

export const waIdentity = (waId: string) => `wa:${waId.replace(/\D/g, '')}`;

/** The pseudonymous token of a person: the blind index of their number (or BSUID when no number). */
export function tokenOf(deps: Deps, id: Identity): string {
  return deps.pii.blindIndex(id.waId ? waIdentity(id.waId) : `bsuid:${id.bsuid}`);
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
 * person's last message) and the BSUID when Meta starts sending one.
 */
export async function touchSubscriber(deps: Deps, id: Identity, seen: { name?: string; at: Date }): Promise<Subscriber> {
  const { Subscriber } = deps.models;
  const now = deps.clock.now();
  const set: Record<string, unknown> = {
    lastInboundAt: seen.at,
    lastActivityAt: now,
    windowUntil: new Date(seen.at.getTime() + 24 * 3600_000),
    unanswered: true,
  };
  if (seen.name) set.nameEnc = deps.pii.encrypt(seen.name);
  if (id.bsuid) {
    set.bsuidKey = deps.pii.blindIndex(`bsuid:${id.bsuid}`);
    set.bsuidEnc = deps.pii.encrypt(id.bsuid);
  }
  const existing = await findSubscriber(deps, id);
  if (existing) {
    if (id.waId && !existing.waIdEnc) {
      set.waIdEnc = deps.pii.encrypt(id.waId);
    }
    return (await Subscriber.findOneAndUpdate({ _id: existing._id }, { $set: set }, { returnDocument: 'after' }).lean()) as Subscriber;
  }
  const doc = {
    key: tokenOf(deps, id),
    waIdEnc: id.waId ? deps.pii.encrypt(id.waId) : null,
    bsuidKey: null,
    bsuidEnc: null,
    nameEnc: null,
    locale: null,
    consent: 'none',
    consentAt: null,
    hintSentAt: null,
    pausedByStaff: false,
    pending: null,
    createdAt: now,
    ...set,
  };
  try {
    return (await Subscriber.create(doc)).toObject() as Subscriber;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return (await findSubscriber(deps, id)) as Subscriber; // created meanwhile by another replica
  }
}

/**
 * A subscriber known from another system (integration API) rather than from a message: created
 * with the number only, no window and no profile name.
 */
export async function touchProfile(deps: Deps, id: Identity): Promise<Subscriber> {
  const existing = await findSubscriber(deps, id);
  if (existing) return existing;
  const now = deps.clock.now();
  try {
    return (
      await deps.models.Subscriber.create({
        key: tokenOf(deps, id),
        waIdEnc: id.waId ? deps.pii.encrypt(id.waId) : null,
        consent: 'none',
        lastActivityAt: now,
        createdAt: now,
      })
    ).toObject() as Subscriber;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return (await findSubscriber(deps, id)) as Subscriber;
  }
}

/** Recipient of outbound messages, sealed: a number for `to`, or a BSUID for `recipient`. */
export function recipientOf(deps: Deps, s: Subscriber): string {
  const waId = s.waIdEnc ? deps.pii.decrypt(s.waIdEnc) : undefined;
  const bsuid = s.bsuidEnc ? deps.pii.decrypt(s.bsuidEnc) : undefined;
  return deps.pii.encrypt(JSON.stringify(waId ? { phone: `+${waId}` } : { bsuid }));
}
