import path from 'node:path';
import express, { Router } from 'express';
import helmet from 'helmet';
import { z } from 'zod';
import type { Deps } from '../deps';
import { securitySignal } from '../privacy/alerts';
import { exportFilename, openExportContent } from '../rights/exportFiles';
import { ingestDelivery } from '../webhook/ingest';
import type { InboxDoc } from '../store/inboxStore';

const PUBLIC = path.resolve(__dirname, '..', '..', 'public', 'sandbox');

const say = z.object({
  waId: z.string().regex(/^\d{6,15}$/, 'digits of an E.164 number without +'),
  name: z.string().max(80).optional(),
  text: z.string().min(1).max(4096).optional(),
  buttonId: z.string().max(256).optional(),
  title: z.string().max(80).optional(),
  /** How the tapped control came: a list row or a reply button (the simulator reads it from the message it shows). */
  reply: z.enum(['button_reply', 'list_reply']).default('button_reply'),
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
export function sandboxRouter(deps: Deps, onStored: (docs: InboxDoc[]) => void): Router {
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
    const { waId, name, text, buttonId, title, reply } = parsed.data;
    if (!(await isSandboxPerson(waId, true))) {
      securitySignal(deps, 'sandbox_refused');
      res.status(409).json({ error: 'this number is not a sandbox conversation; pick another one' });
      return;
    }
    const id = `wamid.sandbox.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const timestamp = String(Math.floor(deps.clock.now().getTime() / 1000));
    const message = buttonId
      ? { from: waId, id, timestamp, type: 'interactive', interactive: { type: reply, [reply]: { id: buttonId, title: title ?? buttonId } } }
      : { from: waId, id, timestamp, type: 'text', text: { body: text } };
    const stored = await ingestDelivery(deps, {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'sandbox',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { phone_number_id: deps.config.whatsapp.phoneNumberIds[0] },
                contacts: [{ wa_id: waId, profile: { name: name ?? 'Sandbox Subscriber' } }],
                messages: [message],
              },
            },
          ],
        },
      ],
    });
    onStored(stored.stored);
    res.status(202).json({ id });
  });

  router.get('/sandbox/api/conversation', async (req, res) => {
    const waId = String(req.query.waId ?? '');
    if (!/^\d{6,15}$/.test(waId)) {
      res.status(400).json({ error: 'waId: digits of an E.164 number without +' });
      return;
    }
    const s = await deps.stores.subscribers.find({ waId });
    if (!s || s.origin !== 'sandbox') {
      res.json({ consent: null, messages: [] });
      return;
    }
    const messages = await deps.stores.conversation.linesOf(s._id, { limit: 200 });
    const bodies = await deps.stores.outbox.bodiesOf(messages.filter((m) => m.direction === 'out').map((m) => m._id));
    res.json({
      consent: s.consent,
      locale: s.locale,
      messages: messages.map((m) => ({
        id: m._id,
        direction: m.direction,
        text: m.text ?? `[${m.kind}]`,
        status: m.status,
        at: m.at,
        body: bodies.get(m._id) ?? null,
      })),
    });
  });

  router.get('/sandbox/exports/:id', async (req, res) => {
    const exp = await deps.stores.exports.get(String(req.params.id));
    const owner = typeof req.query.waId === 'string' && /^\d{6,15}$/.test(req.query.waId) ? await deps.stores.subscribers.find({ waId: req.query.waId }) : null;
    if (!exp || exp.expiresAt < deps.clock.now() || !owner || owner.origin !== 'sandbox' || String(owner._id) !== String(exp.subscriberId)) {
      res.status(404).json({ error: 'no such export (they expire after 7 days)' });
      return;
    }
    // The file as WhatsApp would deliver it: the type it was uploaded with and the name it was sent under.
    const file = openExportContent(exp.open());
    res
      .attachment(exportFilename(file.format, exp.createdAt))
      .type(file.format === 'pdf' ? file.mime : `${file.mime}; charset=utf-8`)
      .send(file.bytes);
  });
  /** A number the simulator may play: one it created, or one with no profile (when writing). */
  async function isSandboxPerson(waId: string, orNew: boolean): Promise<boolean> {
    const s = await deps.stores.subscribers.find({ waId });
    return s ? s.origin === 'sandbox' : orNew;
  }
  return router;
}
