import path from 'node:path';
import express, { Router } from 'express';
import helmet from 'helmet';
import { z } from 'zod';
import type { Deps } from '../deps';
import { at } from '../privacy/pii';
import { securitySignal } from '../privacy/alerts';
import { exportFilename, openExportContent } from '../rights/exportFiles';
import { findSubscriber } from '../rights/subscribers';
import { ingestDelivery } from '../webhook/ingest';

const PUBLIC = path.resolve(__dirname, '..', '..', 'public', 'sandbox');

const say = z.object({
  waId: z.string().regex(/^\d{6,15}$/, 'digits of an E.164 number without +'),
  name: z.string().max(80).optional(),
  text: z.string().min(1).max(4096).optional(),
  buttonId: z.string().max(256).optional(),
  title: z.string().max(80).optional(),
});

/**
 * Sandbox mode only (no WhatsApp credential at all, never production; on loopback unless HOST is
 * set): a local chat simulator where a person plays the subscriber. Messages enter through the same
 * ingestion as Meta's webhook, and the bot's replies are read back from the conversation, so what
 * you see is what WhatsApp would get.
 *
 * It has no login, so it serves only people it created itself: a number that first wrote through
 * WhatsApp (or was recorded through the API) is neither shown nor written for here, and an export
 * is downloaded only with the number of the sandbox person it belongs to (its id is a keyed hash,
 * not guessable).
 */
export function sandboxRouter(deps: Deps, onStored: () => void): Router {
  const router = Router();
  // On loopback, only loopback names: a web page whose domain resolves to 127.0.0.1 (DNS rebinding)
  // must not read the simulator's conversations.
  const loopbackOnly = ['127.0.0.1', 'localhost', '::1'].includes(deps.config.host);
  router.use((req, res, next) => {
    const p = req.originalUrl.split('?')[0];
    if (!loopbackOnly || (p !== '/' && p !== '/sandbox' && !p.startsWith('/sandbox/'))) return next();
    const host = (req.hostname ?? '').replace(/^\[|\]$/g, '');
    if (['127.0.0.1', 'localhost', '::1'].includes(host)) return next();
    res.status(421).json({ error: 'the sandbox answers only on localhost' });
  });
  router.use('/sandbox', helmet());
  router.get('/', (_req, res) => res.redirect('/sandbox'));
  router.get('/sandbox', (_req, res) => res.sendFile(path.join(PUBLIC, 'index.html')));
  router.use('/sandbox/static', express.static(PUBLIC, { index: false }));

  router.post('/sandbox/api/messages', express.json({ limit: '64kb' }), async (req, res) => {
    const parsed = say.safeParse(req.body);
    if (!parsed.success || (!parsed.data.text && !parsed.data.buttonId)) {
      res.status(400).json({ error: parsed.success ? 'text or buttonId is required' : parsed.error.issues.map((i) => i.message).join('; ') });
      return;
    }
    const { waId, name, text, buttonId, title } = parsed.data;
    if (!(await isSandboxPerson(waId, true))) {
      securitySignal(deps, 'sandbox_refused');
      res.status(409).json({ error: 'this number is not a sandbox conversation; pick another one' });
      return;
    }
    const id = `wamid.sandbox.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const timestamp = String(Math.floor(deps.clock.now().getTime() / 1000));
    const message = buttonId
      ? { from: waId, id, timestamp, type: 'interactive', interactive: { type: buttonId.startsWith('help.') || buttonId.startsWith('lang.') ? 'list_reply' : 'button_reply', [buttonId.startsWith('help.') || buttonId.startsWith('lang.') ? 'list_reply' : 'button_reply']: { id: buttonId, title: title ?? buttonId } } }
      : { from: waId, id, timestamp, type: 'text', text: { body: text } };
    await ingestDelivery(deps, {
      object: 'whatsapp_business_account',
      entry: [{ id: 'sandbox', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: deps.config.whatsapp.phoneNumberIds[0] }, contacts: [{ wa_id: waId, profile: { name: name ?? 'Sandbox Subscriber' } }], messages: [message] } }] }],
    });
    onStored();
    res.status(202).json({ id });
  });

  router.get('/sandbox/api/conversation', async (req, res) => {
    const waId = String(req.query.waId ?? '');
    if (!/^\d{6,15}$/.test(waId)) {
      res.status(400).json({ error: 'waId: digits of an E.164 number without +' });
      return;
    }
    const s = await findSubscriber(deps, { waId });
    if (!s || s.origin !== 'sandbox') {
      res.json({ consent: null, messages: [] });
      return;
    }
    const messages = await deps.models.Message.find({ subscriberId: s._id }).sort({ at: 1 }).limit(200).lean();
    const outbox = await deps.models.Outbox.find({ _id: { $in: messages.filter((m) => m.direction === 'out').map((m) => m._id) } }, { bodyEnc: 1 }).lean();
    const bodies = new Map(outbox.map((o) => [o._id, JSON.parse(deps.pii.decrypt(o.bodyEnc, at('outbox', 'bodyEnc', o._id)))]));
    res.json({
      consent: s.consent,
      locale: s.locale,
      messages: messages.map((m) => ({
        id: m._id,
        direction: m.direction,
        text: m.textEnc ? deps.pii.decrypt(m.textEnc, at('messages', 'textEnc', m._id)) : `[${m.kind}]`,
        status: m.status,
        at: m.at,
        body: bodies.get(m._id) ?? null,
      })),
    });
  });

  router.get('/sandbox/exports/:id', async (req, res) => {
    const exp = await deps.models.Export.findById(String(req.params.id)).lean();
    const owner = typeof req.query.waId === 'string' && /^\d{6,15}$/.test(req.query.waId) ? await findSubscriber(deps, { waId: req.query.waId }) : null;
    if (!exp || exp.expiresAt < deps.clock.now() || !owner || owner.origin !== 'sandbox' || String(owner._id) !== String(exp.subscriberId)) {
      res.status(404).json({ error: 'no such export (they expire after 7 days)' });
      return;
    }
    // The file as WhatsApp would deliver it: the type it was uploaded with and the name it was sent under.
    const file = openExportContent(deps.pii.decrypt(exp.contentEnc, at('exports', 'contentEnc', exp._id)));
    res
      .attachment(exportFilename(file.format, exp.createdAt))
      .type(file.format === 'pdf' ? file.mime : `${file.mime}; charset=utf-8`)
      .send(file.bytes);
  });
  /** A number the simulator may play: one it created, or one with no profile (when writing). */
  async function isSandboxPerson(waId: string, orNew: boolean): Promise<boolean> {
    const s = await findSubscriber(deps, { waId });
    return s ? s.origin === 'sandbox' : orNew;
  }
  return router;
}
