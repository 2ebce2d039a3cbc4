import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

/**
 * Bearer tokens from INTEGRATION_API_TOKENS, compared in constant time (both sides hashed to the
 * same length first, so neither the content nor the length of a token leaks through timing).
 */
export function bearerAuth(tokens: string[], onFailure: () => void): RequestHandler {
  const digests = tokens.map((t) => createHash('sha256').update(t).digest());
  return (req, res, next) => {
    const m = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '');
    const given = m ? createHash('sha256').update(m[1].trim()).digest() : null;
    let caller: string | null = null;
    for (const d of digests) if (given && timingSafeEqual(given, d)) caller = d.toString('hex').slice(0, 12);
    if (!caller) {
      onFailure();
      res.status(401).set('www-authenticate', 'Bearer').json({ error: 'a valid bearer token is required' });
      return;
    }
    // Which token (a hash prefix, never the token): idempotency keys are scoped to it.
    res.locals.caller = caller;
    next();
  };
}
