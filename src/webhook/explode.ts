import { z } from 'zod';
import { contentKey, messageKey, statusKey } from '../privacy/ids';
import type { Pii } from '../privacy/pii';
import type { InboundPayload } from '../store/inboxStore';
import { changeSchema, type Envelope } from './envelope';

/**
 * One delivery becomes one inbox item per message, status, preference change or unknown change.
 * Every entry × change × item is kept (a delivery may batch up to 1000 updates); the item id is
 * what makes Meta's redeliveries collide with what we already stored.
 *
 * Nothing here throws on bad input: an item whose identifying fields are not what Meta's reference
 * says (non-string or empty ids, a sender that is not a number, a timestamp out of range) is kept raw
 * as `ignored` for inspection, and the rest of the delivery is stored and processed as usual. A
 * malformed neighbour must never make Meta retry a valid STOP forever.
 *
 * Kept aside (stored as `ignored`, never acted on, counted by reason) besides malformed items:
 * - deliveries for a business number that is not ours (`metadata.phone_number_id` not in
 *   WHATSAPP_PHONE_NUMBER_ID): one app receives the webhooks of every number subscribed to it;
 * - items older than the replay window: Meta redelivers for up to 7 days, out of order, and an
 *   old STOP or START must not be applied again after its dedupe key was swept.
 *
 * Ids are keyed HMACs of Meta's ids (privacy/ids.ts): a `wamid` encodes the sender's number.
 * The sender is the message's own `from` / `from_user_id`; `contacts[]` only supplies the profile
 * of that same sender (a contact that names someone else is never used).
 */
export type KeptAside = 'invalid' | 'unknown_field' | 'foreign_number' | 'stale';

export interface ExplodeContext {
  nowMs: number;
  pii: Pick<Pii, 'blindIndex'>;
  /** The business numbers (phone_number_id) this deployment answers for. */
  ourNumbers: ReadonlySet<string>;
  replayWindowMs: number;
}

export interface InboxItemDraft {
  _id: string;
  field: string;
  type: string;
  /** Raw identity for the subscriber key: `wa:<digits>` or `bsuid:<id>`; null for unknown changes. */
  identity: string | null;
  payload: InboundPayload;
  order: number;
  state: 'pending' | 'ignored';
  /** Why an item is kept aside, for the metric. */
  aside?: KeptAside;
}

type Json = InboundPayload['item'];

const id = z.string().min(1).max(512);
// Meta sends numbers as digit strings; a bare number is accepted and turned into one.
const digits = z
  .union([z.string(), z.number().int().nonnegative()])
  .transform(String)
  .pipe(z.string().regex(/^\d{6,20}$/));
const bsuid = z.string().min(1).max(256);
/** Unix seconds between 2001 and 2286: anything else is not a WhatsApp timestamp. */
const timestamp = z.union([z.string(), z.number()]).transform(Number).pipe(z.number().int().min(1e9).max(1e10));
const optionalDigits = z.union([digits, z.literal('')]).optional();

const messageItem = z
  .looseObject({ id, type: z.string().min(1).max(64), timestamp, from: optionalDigits, from_user_id: bsuid.optional() })
  .refine((m) => Boolean(m.from || m.from_user_id));
const statusItem = z.looseObject({
  id,
  status: z.string().min(1).max(32),
  timestamp,
  recipient_id: optionalDigits,
  recipient_user_id: bsuid.optional(),
  errors: z
    .array(z.looseObject({ code: z.union([z.number(), z.string()]).optional() }))
    .optional()
    .catch(undefined),
});
const preferenceItem = z.looseObject({ wa_id: optionalDigits, user_id: bsuid.optional(), category: z.string().max(64), value: z.string().max(32), timestamp });
const contactSchema = z.looseObject({
  wa_id: optionalDigits,
  user_id: bsuid.optional(),
  profile: z.looseObject({ name: z.string().max(256).optional(), username: z.string().max(256).optional() }).optional(),
});

function identityOf(waId?: string, user?: string): string | null {
  if (waId) return `wa:${waId}`;
  if (user) return `bsuid:${user}`;
  return null;
}

/**
 * The person a malformed or unknown item is about, where one can be read (a sender, a recipient,
 * a contact, searched a few levels deep), so an erasure also finds what was kept aside.
 */
function senderOfRaw(raw: unknown, depth = 0): string | null {
  if (!raw || typeof raw !== 'object' || depth > 4) return null;
  const r = raw as Json;
  for (const v of [r.from, r.recipient_id, r.wa_id, r.to])
    if ((typeof v === 'string' || typeof v === 'number') && /^\+?\d{6,20}$/.test(String(v))) return `wa:${String(v).replace(/^\+/, '')}`;
  for (const v of [r.from_user_id, r.recipient_user_id, r.user_id]) if (typeof v === 'string' && v.length > 0 && v.length <= 256) return `bsuid:${v}`;
  for (const v of Object.values(r).slice(0, 50)) {
    const found = senderOfRaw(v, depth + 1);
    if (found) return found;
  }
  return null;
}

/** JSON of anything, even values too deep to serialise (kept as a marker, not thrown). */
function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? 'null';
  } catch {
    return '"[unserialisable]"';
  }
}

function serialisable(v: unknown): boolean {
  return safeJson(v) !== '"[unserialisable]"';
}

type Contact = NonNullable<InboundPayload['contact']>;
interface ItemRead {
  id: string;
  type: string;
  identity: ReturnType<typeof identityOf>;
  timestamp: number;
  contact?: Contact;
}

/** The item kinds we act on: how each is validated, and its keyed id, type and person. */
const FIELDS = ['messages', 'statuses', 'user_preferences'] as const;
const READERS: Record<(typeof FIELDS)[number], { schema: z.ZodType; read: (pii: Pick<Pii, 'blindIndex'>, d: Json, contacts: Contact[]) => ItemRead | null }> = {
  messages: {
    schema: messageItem,
    read: (pii, m, contacts) => {
      // Only a contact that names this very sender supplies its profile (never contacts[0]).
      const contact = contacts.find((c) => (m.from && c.wa_id === m.from) || (m.from_user_id && c.user_id === m.from_user_id));
      return {
        id: messageKey(pii, m.id),
        type: m.type,
        identity: identityOf(m.from || contact?.wa_id, m.from_user_id || contact?.user_id),
        timestamp: m.timestamp,
        contact,
      };
    },
  },
  statuses: {
    schema: statusItem,
    // One message has several statuses (sent, delivered, read): each is its own item.
    read: (pii, st) => ({
      id: statusKey(pii, st.id, st.status),
      type: `status:${st.status}`,
      identity: identityOf(st.recipient_id, st.recipient_user_id),
      timestamp: st.timestamp,
    }),
  },
  user_preferences: {
    schema: preferenceItem,
    read: (pii, p) =>
      p.wa_id || p.user_id
        ? {
            id: contentKey(pii, 'pref', `${p.wa_id ?? ''}|${p.user_id ?? ''}|${p.category}|${p.value}|${p.timestamp}`),
            type: `preference:${p.value}`,
            identity: identityOf(p.wa_id, p.user_id),
            timestamp: p.timestamp,
          }
        : null,
  },
};

export function explode(envelope: Envelope, ctx: ExplodeContext): InboxItemDraft[] {
  const { nowMs, pii } = ctx;
  const out: InboxItemDraft[] = [];
  let position = 0;
  const orderOf = (seconds?: number) => (seconds ? seconds * 1000 : nowMs) + Math.min(position++, 999);
  const ignored = (field: string, raw: unknown, phoneNumberId?: string): InboxItemDraft => {
    const json = safeJson(raw);
    return {
      _id: contentKey(pii, 'raw', `${field}|${json}`),
      field,
      type: 'invalid',
      identity: senderOfRaw(raw),
      payload: { field, phoneNumberId, item: { raw: json.slice(0, 100_000) } },
      order: orderOf(),
      state: 'ignored',
      aside: 'invalid',
    };
  };
  // A valid item that is not ours to act on: kept sealed for inspection (and erasure), never processed.
  const asideIf = (d: InboxItemDraft, phoneNumberId: string | undefined, seconds: number): InboxItemDraft => {
    const aside: KeptAside | undefined =
      !phoneNumberId || !ctx.ourNumbers.has(phoneNumberId) ? 'foreign_number' : seconds * 1000 < nowMs - ctx.replayWindowMs ? 'stale' : undefined;
    return aside ? { ...d, type: aside, state: 'ignored', aside } : d;
  };

  for (const entry of envelope.entry) {
    const changes = (entry as { changes?: unknown } | null)?.changes;
    if (!Array.isArray(changes)) {
      out.push(ignored('entry', entry));
      continue;
    }
    for (const rawChange of changes) {
      const parsed = changeSchema.safeParse(rawChange);
      if (!parsed.success) {
        out.push(ignored('change', rawChange));
        continue;
      }
      const change = parsed.data;
      const value = change.value as Json;
      const phoneNumberId = typeof value.metadata?.phone_number_id === 'string' ? value.metadata.phone_number_id : undefined;
      const contacts = (Array.isArray(value.contacts) ? value.contacts : []).flatMap((c: unknown) => {
        const r = contactSchema.safeParse(c);
        return r.success ? [r.data] : [];
      });
      let known = false;
      for (const field of FIELDS) {
        const items = value[field];
        if (!Array.isArray(items)) continue;
        known = true;
        for (const raw of items as unknown[]) {
          const parsedItem = READERS[field].schema.safeParse(raw);
          const read = parsedItem.success && serialisable(raw) ? READERS[field].read(pii, parsedItem.data as Json, contacts) : null;
          if (!read) {
            out.push(ignored(field, raw, phoneNumberId));
            continue;
          }
          const payload: InboundPayload = { field, phoneNumberId, item: parsedItem.data as Json, ...(read.contact ? { contact: read.contact } : {}) };
          const draft: InboxItemDraft = {
            _id: read.id,
            field,
            type: read.type,
            identity: read.identity,
            payload,
            order: orderOf(read.timestamp),
            state: 'pending',
          };
          out.push(asideIf(draft, phoneNumberId, read.timestamp));
        }
      }
      if (!known) {
        // Unknown field (or a shape we do not handle): kept raw for inspection, never processed.
        const json = safeJson(value);
        out.push({
          _id: contentKey(pii, 'raw', `${change.field}|${json}`),
          field: change.field,
          type: 'unknown',
          identity: senderOfRaw(value),
          payload: { field: change.field, phoneNumberId, item: json.length < 100_000 ? value : { raw: json.slice(0, 100_000) } },
          order: orderOf(),
          state: 'ignored',
          aside: 'unknown_field',
        });
      }
    }
  }
  return out;
}
