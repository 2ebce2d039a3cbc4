import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { parseEncryptionKeys, type PiiKeys } from './pii';

/**
 * Keys come from PII_ENCRYPTION_KEYS / PII_HMAC_KEY. Outside production, missing keys are
 * generated once into <DATA_DIR>/dev-keys.json (mode 0600) so `npm start` works out of the box;
 * production refuses to start without them (config.ts).
 */
export function loadKeys(config: Config): PiiKeys & { generatedAt?: string } {
  let encSpec = config.pii.encryptionKeys;
  let hmac = config.pii.hmacKey;
  if (!encSpec || !hmac) {
    const file = path.join(config.dataDir, 'dev-keys.json');
    let dev: { encryptionKeys: string; hmacKey: string };
    if (existsSync(file)) {
      dev = JSON.parse(readFileSync(file, 'utf8'));
    } else {
      mkdirSync(config.dataDir, { recursive: true });
      dev = { encryptionKeys: `dev1:${randomBytes(32).toString('base64')}`, hmacKey: randomBytes(32).toString('base64') };
      writeFileSync(file, JSON.stringify(dev, null, 2), { mode: 0o600 });
    }
    encSpec ??= dev.encryptionKeys;
    hmac ??= dev.hmacKey;
  }
  return { encryptionKeys: parseEncryptionKeys(encSpec), hmacKey: Buffer.from(hmac, 'base64'), acceptUnbound: config.pii.acceptUnbound };
}
