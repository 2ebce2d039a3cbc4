import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { AppError } from '../lib/errors';

/**
 * Field-level encryption of personal data (AES-256-GCM) and keyed blind indexes (HMAC-SHA256).
 *
 * A sealed value is bound to its place: the collection, the field and the document id are the
 * GCM additional authenticated data, so a value copied into another document (or another field)
 * does not decrypt. It names its key id, so several keys live side by side during a rotation:
 * `e2.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). `e1.` values (written before values were
 * bound to their place) open only for `migrate-ids` / `rotate-keys`, which rewrite them as `e2.`,
 * or everywhere while PII_ACCEPT_UNBOUND_VALUES=true (an upgrade in progress): otherwise an unbound
 * value from an old backup could be planted in any document and would open there.
 */
export interface Place {
  /** Collection name, e.g. `subscribers`. */
  c: string;
  /** Field name, e.g. `nameEnc`. */
  f: string;
  /** The document's `_id`, as a string. */
  id: string;
}

export interface Pii {
  readonly activeKeyId: string;
  encrypt(plain: string, at: Place): string;
  /** `legacy`: also open unbound `e1.` values (the migration and rotation, which rewrite them). */
  decrypt(sealed: string, at: Place, opts?: { legacy?: boolean }): string;
  /** Keyed hash used to find a record by a personal value without storing the value. */
  blindIndex(value: string): string;
  keyIdOf(sealed: string): string;
}

export interface PiiKeys {
  encryptionKeys: { id: string; key: Buffer }[];
  hmacKey: Buffer;
  /** Open `e1.` values everywhere (PII_ACCEPT_UNBOUND_VALUES=true), not only when migrating. */
  acceptUnbound?: boolean;
}

export const at = (c: string, f: string, id: unknown): Place => ({ c, f, id: String(id) });

export function parseEncryptionKeys(spec: string): { id: string; key: Buffer }[] {
  return spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf(':');
      return { id: p.slice(0, i), key: Buffer.from(p.slice(i + 1), 'base64') };
    });
}

function aad(p: Place): Buffer {
  return Buffer.from(JSON.stringify([p.c, p.f, p.id]), 'utf8');
}

export function createPii(keys: PiiKeys): Pii {
  const [active] = keys.encryptionKeys;
  if (!active) throw new AppError('CRYPTO.KEY_MISSING', 'no encryption key configured');
  const byId = new Map(keys.encryptionKeys.map((k) => [k.id, k.key]));
  return {
    activeKeyId: active.id,
    encrypt(plain, place) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', active.key, iv);
      cipher.setAAD(aad(place));
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['e2', active.id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
    },
    decrypt(sealed, place, opts) {
      const [v, kid, iv, tag, ct] = sealed.split('.');
      if ((v !== 'e2' && v !== 'e1') || ct === undefined) throw new AppError('CRYPTO.BAD_CIPHERTEXT', 'not a sealed value');
      if (v === 'e1' && !keys.acceptUnbound && !opts?.legacy) {
        throw new AppError('CRYPTO.BAD_CIPHERTEXT', `unbound (e1) value at ${place.c}.${place.f}: run npm run cli -- migrate-ids`);
      }
      const key = byId.get(kid);
      if (!key) throw new AppError('CRYPTO.KEY_MISSING', `key ${kid} is not configured`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      if (v === 'e2') decipher.setAAD(aad(place));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
      } catch (err) {
        // A tampered value, or one moved from another document or field.
        throw new AppError('CRYPTO.BAD_CIPHERTEXT', `sealed value does not open at ${place.c}.${place.f}`, { cause: err });
      }
    },
    blindIndex(value) {
      return createHmac('sha256', keys.hmacKey).update(value, 'utf8').digest('base64url');
    },
    keyIdOf(sealed) {
      return sealed.split('.')[1] ?? '';
    },
  };
}
