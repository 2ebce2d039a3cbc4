import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Meta signs the exact bytes it sends: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>`
 * (https://developers.facebook.com/docs/graph-api/webhooks/getting-started, "Validating Payloads"). The check runs on the raw body, never on re-serialised
 * JSON: Meta escapes non-ASCII as \uXXXX and "/" as "\/", so any round trip changes the bytes.
 * (whatsapp-api-js's verifier re-escapes the text first, which would accept a re-serialised body;
 * we want those rejected, so the HMAC is ours.)
 */
export function verifySignature(raw: Buffer, header: string | undefined, appSecret: string): boolean {
  if (!header || !header.startsWith('sha256=')) return false;
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  const expected = createHmac('sha256', appSecret).update(raw).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}
