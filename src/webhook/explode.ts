import { createHash } from 'node:crypto';
import type { Envelope } from './envelope';

/**
 * One delivery becomes one inbox item per message, status, preference change or unknown change.
 * Every entry × change × item is kept (a delivery may batch up to 1000 updates); the item id is
 * what makes Meta's redeliveries collide with what we already stored.
 */
export interface InboxItemDraft {
  _id: string;
  field: string;
  type: string;
  /** Raw identity for the subscriber key: `wa:<digits>` or `bsuid:<id>`; null for unknown changes. */
  identity: string | null;
  payload: InboundPayload;
  order: number;
  state: 'pending' | 'ignored';
}

// Meta's item shapes vary by type and grow over time; the chat code narrows what it reads.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

export interface InboundPayload {
  field: string;
  phoneNumberId?: string;
  item: Json;
  contact?: { wa_id?: string; user_id?: string; profile?: { name?: string; username?: string } };
}

type Value = Json;

function identityOf(waId?: string, bsuid?: string): string | null {
  if (waId) return `wa:${String(waId).replace(/\D/g, '')}`;
  if (bsuid) return `bsuid:${bsuid}`;
  return null;
}

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 32);
}

export function explode(envelope: Envelope, nowMs: number): InboxItemDraft[] {
  const out: InboxItemDraft[] = [];
  let position = 0;
  const orderOf = (ts: unknown) => {
    const seconds = Number(ts);
    const base = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : nowMs;
    return base + Math.min(position++, 999);
  };
  for (const entry of envelope.entry) {
    for (const change of entry.changes) {
      const value = change.value as Value;
      const phoneNumberId = value.metadata?.phone_number_id as string | undefined;
      const contacts: Value[] = Array.isArray(value.contacts) ? value.contacts : [];
      let known = false;
      if (Array.isArray(value.messages)) {
        known = true;
        for (const m of value.messages as Value[]) {
          const contact = contacts.find((c) => (m.from && c.wa_id === m.from) || (m.from_user_id && c.user_id === m.from_user_id)) ?? contacts[0];
          out.push({
            _id: String(m.id ?? `msg:${sha(JSON.stringify(m))}`),
            field: 'messages',
            type: String(m.type ?? 'unknown'),
            identity: identityOf(m.from || contact?.wa_id, m.from_user_id || contact?.user_id),
            payload: { field: 'messages', phoneNumberId, item: m, contact },
            order: orderOf(m.timestamp),
            state: 'pending',
          });
        }
      }
      if (Array.isArray(value.statuses)) {
        known = true;
        for (const s of value.statuses as Value[]) {
          out.push({
            // One message has several statuses (sent, delivered, read): each is its own item.
            _id: `status:${s.id}:${s.status}`,
            field: 'statuses',
            type: `status:${s.status}`,
            identity: identityOf(s.recipient_id, s.recipient_user_id),
            payload: { field: 'statuses', phoneNumberId, item: s },
            order: orderOf(s.timestamp),
            state: 'pending',
          });
        }
      }
      if (Array.isArray(value.user_preferences)) {
        known = true;
        for (const p of value.user_preferences as Value[]) {
          out.push({
            _id: `pref:${sha(`${p.wa_id}|${p.user_id ?? ''}|${p.category}|${p.value}|${p.timestamp}`)}`,
            field: 'user_preferences',
            type: `preference:${p.value}`,
            identity: identityOf(p.wa_id, p.user_id),
            payload: { field: 'user_preferences', phoneNumberId, item: p },
            order: orderOf(p.timestamp),
            state: 'pending',
          });
        }
      }
      if (!known) {
        // Unknown field (or a shape we do not handle): kept raw for inspection, never processed.
        out.push({
          _id: `raw:${sha(`${change.field}|${JSON.stringify(value)}`)}`,
          field: change.field,
          type: 'unknown',
          identity: null,
          payload: { field: change.field, phoneNumberId, item: value },
          order: orderOf(undefined),
          state: 'ignored',
        });
      }
    }
  }
  return out;
}
