import { createHmac } from 'node:crypto';

/**
 * How a receiver knows an event is ours and fresh (docs/events.md has the recipe): HMAC-SHA256
 * with the receiver's own secret over `<t>.<raw body>`, where `t` is the Unix time in seconds when
 * it was sent; sent as `X-Privacy-Signature: t=<t>,v1=<hex>`. A receiver recomputes it over the
 * bytes it received and refuses a `t` outside its replay window (5 minutes is our advice).
 */
export function signEvent(secret: string, t: number, rawBody: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${rawBody}`).digest('hex')}`;
}

/**
 * A receiver's pseudonym of a person: HMAC-SHA256 with that receiver's secret over `wa:<digits of
 * the number>` (or `bsuid:<id>` for someone known only by username). The receiver, holding its
 * secret and its customers' numbers, computes the same value to find the person; two receivers'
 * pseudonyms of one person cannot be linked, and neither reveals the number.
 */
export function pseudonymOf(secret: string, identity: { waId?: string | null; bsuid?: string | null }): string {
  const subject = identity.waId ? `wa:${identity.waId.replace(/\D/g, '')}` : `bsuid:${identity.bsuid ?? ''}`;
  return createHmac('sha256', secret).update(subject).digest('hex');
}
