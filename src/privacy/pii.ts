import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { AppError } from '../lib/errors';

/**
 * Field-level encryption of personal data (AES-256-GCM) and keyed blind indexes (HMAC-SHA256).
 * A ciphertext names its key id, so several keys can live side by side during a rotation:
 * `e1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts).
 */
export interface Pii {
  readonly activeKeyId: string;
  encrypt(plain: string): string;
  decrypt(sealed: string): string;
  /** Keyed hash used to find a record by a personal value without storing the value. */
  blindIndex(value: string): string;
  keyIdOf(sealed: string): string;
}

export interface PiiKeys {
  encryptionKeys: { id: string; key: Buffer }[];
  hmacKey: Buffer;
}

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

export function createPii(keys: PiiKeys): Pii {
  const [active] = keys.encryptionKeys;
  if (!active) throw new AppError('CRYPTO.KEY_MISSING', 'no encryption key configured');
  const byId = new Map(keys.encryptionKeys.map((k) => [k.id, k.key]));
  return {
    activeKeyId: active.id,
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', active.key, iv);
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['e1', active.id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
    },
    decrypt(sealed) {
      const [v, kid, iv, tag, ct] = sealed.split('.');
      if (v !== 'e1' || ct === undefined) throw new AppError('CRYPTO.BAD_CIPHERTEXT', 'not a sealed value');
      const key = byId.get(kid);
      if (!key) throw new AppError('CRYPTO.KEY_MISSING', `key ${kid} is not configured`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    },
    blindIndex(value) {
      return createHmac('sha256', keys.hmacKey).update(value, 'utf8').digest('base64url');
    },
    keyIdOf(sealed) {
      return sealed.split('.')[1] ?? '';
    },
  };
}
