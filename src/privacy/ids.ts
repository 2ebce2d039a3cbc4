import type { Pii } from './pii';

/**
 * Our own identifiers. A WhatsApp message id (`wamid.HBgL…`) is base64 of a structure that holds
 * the sender's phone number, so it is personal data: it never becomes a document id, a request id,
 * a ledger key, a log field, a staff-visible value or `biz_opaque_callback_data`. Where
 * idempotency needs an id derived from Meta's, it is a keyed HMAC of it (PII_HMAC_KEY), which
 * reveals nothing without the key and the original id.
 */
const KEY_CHARS = 27; // 162 bits of HMAC-SHA256, base64url

function keyed(pii: Pick<Pii, 'blindIndex'>, purpose: string, value: string): string {
  return pii.blindIndex(`${purpose}:${value}`).slice(0, KEY_CHARS);
}

/** The inbox id of an inbound message (and the request id of what it asked). */
export const messageKey = (pii: Pick<Pii, 'blindIndex'>, metaId: string) => `m_${keyed(pii, 'meta-id', metaId)}`;

/** The inbox id of one status (sent, delivered, read, failed) of one outbound message. */
export const statusKey = (pii: Pick<Pii, 'blindIndex'>, metaId: string, status: string) =>
  // Meta's status names are short words; anything else (a hostile payload) is hashed, so an id is
  // always plain ASCII (a lone surrogate would be stored changed, and the sealed payload, bound to
  // its id, would no longer open).
  `status:${messageKey(pii, metaId)}:${/^[a-z_]{1,32}$/.test(status) ? status : keyed(pii, 'status', status)}`;

/** Any other inbox item (preference changes, unknown or malformed changes): a keyed hash of its content. */
export const contentKey = (pii: Pick<Pii, 'blindIndex'>, kind: 'pref' | 'raw', content: string) => `${kind}_${keyed(pii, kind, content)}`;

/** Where a Graph message id must be looked up (a status without our callback id): never stored as is. */
export const graphKey = (pii: Pick<Pii, 'blindIndex'>, graphId: string) => `g_${keyed(pii, 'graph-id', graphId)}`;

/** An export's id: unguessable (keyed), and stable for one request so a replay stores nothing twice. */
export const exportKey = (pii: Pick<Pii, 'blindIndex'>, requestId: string) => `exp_${keyed(pii, 'export', requestId)}`;

/** Meta ids inside older identifiers (before ids of our own), for the migration. */
export const META_ID = /wamid\.[A-Za-z0-9_\-+/=]+/g;

/** Unkeyed content hashes of the old scheme (`pref:<sha256/128>`): a number can be brute-forced from them. */
const OLD_CONTENT_ID = /\b(pref|raw):([0-9a-f]{32})\b/g;

/** An identifier of the old scheme with every Meta id and unkeyed hash in it replaced by a key (idempotent). */
export function rekey(pii: Pick<Pii, 'blindIndex'>, id: string): string {
  if (/^exp-/.test(id)) return exportKey(pii, id);
  return id
    .replace(META_ID, (m) => messageKey(pii, m))
    .replace(OLD_CONTENT_ID, (_m, kind: 'pref' | 'raw', hex: string) => contentKey(pii, kind, `legacy:${hex}`));
}
