import { timingSafeEqual } from 'node:crypto';
import express, { Router, type ErrorRequestHandler } from 'express';
import type { Deps } from '../deps';
import type { InboxDoc } from '../store/inboxStore';
import { AppError } from '../lib/errors';
import { securitySignal } from '../privacy/alerts';
import { envelopeSchema } from './envelope';
import { ingestDelivery } from './ingest';
import { verifySignature } from './verifySignature';

/** Meta caps a delivery at 3 MB (Webhooks reference); anything larger is refused with 413. */
export const MAX_DELIVERY_BYTES = 3 * 1024 * 1024;

/**
 * The WhatsApp webhook edge: verification handshake, then signed deliveries stored in the inbox
 * before the 200. Processing happens later, from the inbox (inbox/worker.ts).
 */
export function webhookRouter(deps: Deps, onStored: (docs: InboxDoc[]) => void): Router {
  const router = Router();
  const log = deps.log.child({ module: 'webhook' });
  const { metrics } = deps;

  // Meta's verification request (https://developers.facebook.com/docs/graph-api/webhooks/getting-started): hub.mode=subscribe, hub.verify_token, hub.challenge.
  router.get('/webhook', (req, res) => {
    const mode = req.query['hub.mode'];
    const token = req.query['hub.verify_token'];
    const challenge = req.query['hub.challenge'];
    if (typeof mode !== 'string' || typeof token !== 'string' || typeof challenge !== 'string') {
      res.status(400).type('text/plain').send('missing hub.mode, hub.verify_token or hub.challenge');
      return;
    }
    const expected = deps.config.whatsapp.verifyToken;
    if (mode !== 'subscribe' || !expected || !safeEqual(token, expected)) {
      log.warn({ mode }, 'webhook verification refused');
      res.status(403).type('text/plain').send('forbidden');
      return;
    }
    log.info({}, 'webhook verification answered');
    res.status(200).type('text/plain').send(challenge);
  });

  router.post('/webhook', express.raw({ type: () => true, limit: MAX_DELIVERY_BYTES }), async (req, res) => {
    const started = process.hrtime.bigint();
    const done = (status: number, outcome: string, body: unknown) => {
      metrics.webhookDeliveries.inc({ outcome });
      metrics.webhookAckSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      // A bad signature is logged by the security signal, a failure where it happened.
      if (status === 400) log.warn({ status, outcome, bytes: req.body?.length ?? 0 }, 'delivery refused');
      res.status(status).json(body);
    };
    const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const secret = deps.config.whatsapp.appSecret;
    if (!secret || !verifySignature(raw, req.get('x-hub-signature-256'), secret)) {
      // Logged (without the body) and counted by the breach-signal path.
      securitySignal(deps, 'webhook_bad_signature', { code: 'WEBHOOK.BAD_SIGNATURE', bytes: raw.length });
      done(401, 'bad_signature', { error: 'invalid signature' });
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      done(400, 'bad_request', { error: 'body is not JSON' });
      return;
    }
    const parsed = envelopeSchema.safeParse(json);
    if (!parsed.success) {
      done(400, 'bad_request', { error: 'not a whatsapp_business_account delivery' });
      return;
    }
    try {
      const outcome = await ingestDelivery(deps, parsed.data);
      log.debug({ items: outcome.items, fresh: outcome.fresh, duplicates: outcome.duplicates }, 'delivery stored');
      done(200, outcome.fresh === 0 && outcome.items > 0 ? 'duplicate' : 'stored', { received: outcome.items });
      if (outcome.fresh > 0) onStored(outcome.stored);
    } catch (err) {
      // Never a 200 for something not stored: Meta retries on 5xx.
      log.error({ err, code: (err as AppError).code }, 'delivery not stored');
      done(503, 'db_unavailable', { error: 'temporarily unavailable' });
    }
  });

  const tooLarge: ErrorRequestHandler = (err, req, res, next) => {
    if (req.path !== '/webhook') return next(err);
    const status = err?.type === 'entity.too.large' ? 413 : 400;
    metrics.webhookDeliveries.inc({ outcome: status === 413 ? 'too_large' : 'bad_request' });
    log.warn({ status, outcome: status === 413 ? 'too_large' : 'bad_request' }, 'delivery refused');
    res.status(status).json({ error: status === 413 ? 'delivery too large' : 'unreadable body' });
  };
  router.use(tooLarge);
  return router;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
