import { createHash, randomUUID } from 'node:crypto';
import express, { Router } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps';
import { securitySignal } from '../privacy/alerts';
import { consentGate } from '../outbox/gate';
import { recordExternalConsent } from '../rights/externalConsent';
import { sendFromApi } from '../outbox/sendFromApi';
import { bearerAuth } from './auth';
import { e164 } from './phone';

const consentBody = z.object({
  to: e164,
  source: z.string().trim().min(1).max(200),
  collectedAt: z.iso.datetime({ offset: true }).transform((s) => new Date(s)),
});

const messageBody = z.object({
  to: e164,
  category: z.enum(['marketing', 'service']),
  text: z.string().min(1).max(4096),
});

/**
 * The integration API for the business's other systems (README, Integration API): ask before sending
 * marketing, record consents collected elsewhere, send through the consent gate. Answers never say
 * why a number is refused, so an erased person is not revealed.
 */
export function apiRouter(deps: Deps): Router {
  const router = Router();
  const log = deps.log.child({ module: 'api' });
  if (deps.config.integrationTokens.length === 0) {
    router.use('/api/v1', (_req, res) => {
      res.status(404).json({ error: 'the integration API is off (set INTEGRATION_API_TOKENS)' });
    });
    return router;
  }
  router.use(
    '/api/v1',
    bearerAuth(deps.config.integrationTokens, () => securitySignal(deps, 'api_bad_token')),
  );
  router.use('/api/v1', express.json({ limit: '32kb' }));

  router.get('/api/v1/sendability/:phone', async (req, res) => {
    const phone = e164.safeParse(req.params.phone);
    if (!phone.success) {
      res.status(400).json({ error: 'phone: an E.164 phone number such as +15551234567' });
      return;
    }
    const gate = await consentGate(deps.stores, { token: deps.stores.subscribers.tokenOf({ waId: phone.data }), category: 'marketing' });
    res.json({ marketing: gate.allowed });
  });

  // The consents an opt-in link brought (staff/optInLinks.ts), newest first: who, and when.
  router.get('/api/v1/consents', async (req, res) => {
    const q = z
      .object({ source: z.string().regex(/^[a-z0-9]{8}$/, 'an opt-in link code'), limit: z.coerce.number().int().min(1).max(500).default(100) })
      .safeParse(req.query);
    if (!q.success) return void res.status(400).json({ error: 'invalid query', problems: q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
    const source = await deps.stores.optInSources.byCode(q.data.source);
    if (!source) return void res.status(404).json({ error: 'no such opt-in link' });
    const grants = await deps.stores.consents.grantsThrough(q.data.source, q.data.limit);
    const consents = [];
    // A person who came through it more than once is listed once, at their latest grant.
    const seen = new Set<string>();
    for (const g of grants) {
      if (seen.has(String(g.subscriberId))) continue;
      seen.add(String(g.subscriberId));
      const s = await deps.stores.subscribers.byId(g.subscriberId);
      const waId = s ? deps.stores.subscribers.open(s, 'waIdEnc') : null;
      // Someone since erased is gone from here too.
      if (s) consents.push({ to: waId ? `+${waId}` : null, grantedAt: g.at, marketing: s.consent === 'opted_in' });
    }
    res.json({ source: { code: source._id, name: source.name, purpose: source.purpose }, consents });
  });

  router.post('/api/v1/consents', async (req, res) => {
    const body = consentBody.safeParse(req.body);
    if (!body.success) {
      res.status(400).json({ error: 'invalid body', problems: body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`) });
      return;
    }
    if (body.data.collectedAt.getTime() > deps.clock.now().getTime() + 5 * 60_000) {
      res.status(400).json({ error: 'invalid body', problems: ['collectedAt: must not be in the future'] });
      return;
    }
    const result = await recordExternalConsent(deps.rights, { waId: body.data.to, source: body.data.source, collectedAt: body.data.collectedAt });
    if (result.kind === 'suppressed') {
      res.status(409).json({ error: 'this number cannot be subscribed by a third party' });
      return;
    }
    log.info({ consent: result.id, marketing: result.marketing }, 'external consent recorded');
    res.status(201).json({ id: result.id, marketing: result.marketing });
  });

  router.post('/api/v1/messages', async (req, res) => {
    const key = req.get('idempotency-key');
    if (key !== undefined && !/^[\w.:-]{1,100}$/.test(key)) {
      res.status(400).json({ error: 'Idempotency-Key: 1 to 100 letters, digits, "_", ".", ":" or "-"' });
      return;
    }
    const body = messageBody.safeParse(req.body);
    if (!body.success) {
      res.status(400).json({ error: 'invalid body', problems: body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`) });
      return;
    }
    const { to, category, text } = body.data;
    // A key belongs to the token that used it, and to the request it was first used with.
    const id = key ? `api:${String(res.locals.caller)}:${key}` : `api:${randomUUID()}`;
    const requestHash = createHash('sha256')
      .update(JSON.stringify([to, category, text]))
      .digest('base64url');
    if (key) {
      const earlier = await deps.stores.outbox.keyUse(id);
      if (earlier) {
        if (earlier.requestHash !== requestHash) res.status(422).json({ error: 'this Idempotency-Key was used with another request' });
        else res.status(202).json({ id, queued: false });
        return;
      }
    }
    const outcome = await sendFromApi(deps, { waId: to, category, text, id, requestHash });
    if (outcome.kind === 'refused') {
      if (outcome.reason !== 'window') deps.metrics.gateRefusals.inc({ reason: outcome.reason });
      // One answer for every reason: an erased number must not read differently from one never seen.
      res.status(409).json({ error: 'this message cannot be sent to this number now (no consent, no open 24-hour window, or not reachable)' });
      return;
    }
    if (!outcome.queued && key) {
      // Another request with the same key got there first: the same request, or another one (422).
      const first = await deps.stores.outbox.keyUse(id);
      if (first && first.requestHash !== requestHash) {
        res.status(422).json({ error: 'this Idempotency-Key was used with another request' });
        return;
      }
    }
    res.status(202).json({ id, queued: outcome.queued });
  });
  return router;
}
