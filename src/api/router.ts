import { randomUUID } from 'node:crypto';
import express, { Router } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps';
import { enqueueText } from '../outbox/enqueue';
import { securitySignal } from '../privacy/alerts';
import { consentGate } from '../outbox/gate';
import { recordExternalConsent } from '../rights/externalConsent';
import { recipientOf, senderOf, tokenOf, touchProfile } from '../rights/subscribers';
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
 * The integration API for the business's other systems (shared/CONTRACT.md): ask before sending
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
  router.use('/api/v1', bearerAuth(deps.config.integrationTokens, () => securitySignal(deps, 'api_bad_token')));
  router.use('/api/v1', express.json({ limit: '32kb' }));

  router.get('/api/v1/sendability/:phone', async (req, res) => {
    const phone = e164.safeParse(req.params.phone);
    if (!phone.success) {
      res.status(400).json({ error: 'phone: an E.164 phone number such as +15551234567' });
      return;
    }
    const gate = await consentGate(deps, { token: tokenOf(deps, { waId: phone.data }), category: 'marketing' });
    res.json({ marketing: gate.allowed });
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
    const result = await recordExternalConsent(deps, { waId: body.data.to, source: body.data.source, collectedAt: body.data.collectedAt });
    if (result.kind === 'suppressed') {
      res.status(409).json({ error: 'this number cannot be subscribed by a third party' });
      return;
    }
    log.info({ consent: result.id, marketing: result.marketing }, 'external consent recorded');
    res.status(201).json({ id: result.id, marketing: result.marketing });
  });

  router.post('/api/v1/messages', async (req, res) => {
    const body = messageBody.safeParse(req.body);
    if (!body.success) {
      res.status(400).json({ error: 'invalid body', problems: body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`) });
      return;
    }
    const { to, category, text } = body.data;
    const gate = await consentGate(deps, { token: tokenOf(deps, { waId: to }), category });
    if (!gate.allowed) {
      deps.metrics.gateRefusals.inc({ reason: gate.reason });
      res.status(409).json({ error: 'refused by the consent gate' });
      return;
    }
    const s = await touchProfile(deps, { waId: to });
    const now = deps.clock.now();
    if (!deps.config.graph.utilityTemplate && (!s.windowUntil || s.windowUntil < now)) {
      res.status(409).json({ error: 'outside the 24-hour customer-service window and no template is configured' });
      return;
    }
    const key = req.get('idempotency-key');
    const id = `api:${key && /^[\w.:-]{1,100}$/.test(key) ? key : randomUUID()}`;
    const fresh = await enqueueText(deps, { id, subscriberId: s._id, to: recipientOf(deps, s), from: senderOf(deps, s), category, text, by: 'api' });
    res.status(202).json({ id, queued: fresh });
  });
  return router;
}
