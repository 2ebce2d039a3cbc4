import { timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import express, { Router } from 'express';
import helmet from 'helmet';
import { z } from 'zod';
import type { Deps } from '../deps';
import { renderReply } from '../messages/renderReply';
import { securitySignal } from '../privacy/alerts';
import { exportFilename, openExportContent } from '../rights/exportFiles';
import { text as textReply } from '../rights/outcome';
import { erasureReference } from '../rights/erasure';
import { ingestDelivery } from '../webhook/ingest';
import type { InboxDoc } from '../store/inboxStore';
import type { Subscriber } from '../store/subscriberStore';

const PUBLIC = path.resolve(__dirname, '..', '..', 'public', 'sandbox');

/**
 * "+1 555-010-0009" → "15550100009": the simulator takes a number as people write it (a leading +,
 * spaces, dashes, brackets) and works with its digits. Anything else is left as it is, to be refused.
 */
export function sandboxWaId(raw: unknown): string {
  const v = typeof raw === 'string' ? raw.trim() : '';
  return /^\+?[\d\s()-]+$/.test(v) ? v.replace(/\D/g, '') : v;
}
const WA_ID = /^\d{6,15}$/;
const WA_ID_HELP = 'a number with its country code: 6 to 15 digits (a leading +, spaces and dashes are fine)';

const say = z.object({
  waId: z.preprocess(sandboxWaId, z.string().regex(WA_ID, WA_ID_HELP)),
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
    const existing = await deps.stores.subscribers.find({ waId });
    if (existing && existing.origin !== 'sandbox') {
      securitySignal(deps, 'sandbox_refused');
      res.status(409).json({ error: 'this number is not a sandbox conversation; pick another one' });
      return;
    }
    // The name field names a new person only. WhatsApp sends the profile name with every message and
    // the bot keeps the latest, so someone already known is sent under the name they have: picking
    // their number in the simulator must not rename them.
    const profileName = (existing ? deps.stores.subscribers.open(existing, 'nameEnc') : name) ?? 'Sandbox Subscriber';
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
                contacts: [{ wa_id: waId, profile: { name: profileName } }],
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
    const waId = sandboxWaId(req.query.waId);
    if (!WA_ID.test(waId)) {
      res.status(400).json({ error: `waId: ${WA_ID_HELP}` });
      return;
    }
    const s = await deps.stores.subscribers.find({ waId });
    if (!s || s.origin !== 'sandbox') {
      const erased = s ? null : await erasureConfirmation(waId, req.query.seal, req.query.locale);
      res.json({ consent: null, locale: null, name: null, messages: [], ...(erased ? { erased } : {}) });
      return;
    }
    const messages = await deps.stores.conversation.linesOf(s._id, { limit: 200 });
    const bodies = await deps.stores.outbox.bodiesOf(messages.filter((m) => m.direction === 'out').map((m) => m._id));
    const quiet = unansweredOnPurpose(s, messages);
    res.json({
      consent: s.consent,
      locale: s.locale,
      name: deps.stores.subscribers.open(s, 'nameEnc'),
      seal: sealOf(waId),
      messages: messages.map((m) => ({
        id: m._id,
        direction: m.direction,
        text: m.text ?? `[${m.kind}]`,
        status: m.status,
        at: m.at,
        body: bodies.get(m._id) ?? null,
        ...(quiet.has(m._id) ? { quiet: true } : {}),
      })),
    });
  });

  router.get('/sandbox/exports/:id', async (req, res) => {
    const exp = await deps.stores.exports.get(String(req.params.id));
    const ownerWaId = sandboxWaId(req.query.waId);
    const owner = WA_ID.test(ownerWaId) ? await deps.stores.subscribers.find({ waId: ownerWaId }) : null;
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

  /**
   * A keyed hash of the number, handed to the page with a sandbox person's conversation. Once the
   * person is erased nothing says they were the simulator's, so the page shows it back to read their
   * erasure confirmation: a number that came through WhatsApp or the API never had one, and whether
   * (and when) such a person was erased is not the simulator's to tell.
   */
  function sealOf(waId: string): string {
    return deps.pii.blindIndex(`sandbox-seal:${waId}`);
  }

  /**
   * The erasure confirmation of a sandbox person who is gone: the bot sends it after the data is
   * deleted and keeps no copy (rights/erasure.ts), so the simulator would otherwise go blank and a
   * newcomer never see it. It is written again from what the erasure leaves: the pseudonymous request
   * (its id gives the reference, as the erasure job takes it) in the language the page last showed
   * (the bot's too, unless it changed in the last second).
   */
  async function erasureConfirmation(waId: string, seal: unknown, locale: unknown): Promise<{ ref: string; at: Date; text: string } | null> {
    const expected = Buffer.from(sealOf(waId));
    const given = Buffer.from(typeof seal === 'string' ? seal : '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const requests = await deps.stores.requests.ofPerson(deps.stores.subscribers.tokenOf({ waId }), { newestFirst: true, limit: 20 });
    const done = requests.find((r) => r.type === 'erasure' && r.state === 'done');
    if (!done) return null;
    const lng = typeof locale === 'string' && deps.i18n.locales.includes(locale) ? locale : deps.config.defaultLocale;
    const ref = erasureReference(done._id);
    return { ref, at: done.doneAt ?? done.receivedAt, text: renderReply(deps.i18n, deps.config, lng, textReply('erase.done', { ref })).display };
  }

  /**
   * Free text the bot did not answer on purpose: it hints once a day (chat/handleMessage.ts), so a
   * second question gets nothing and the simulator looks broken unless it says why. A message counts
   * once its turn is written (the profile has seen it), when it is not the one hinted and no reply
   * follows it; never while staff have paused the bot (that silence is theirs, not the rule's).
   */
  function unansweredOnPurpose(s: Subscriber, lines: { _id: string; direction: string; intent?: string | null; at: Date }[]): Set<string> {
    const quiet = new Set<string>();
    if (s.pausedByStaff || !s.hintSentAt) return quiet;
    lines.forEach((m, i) => {
      if (m.direction !== 'in' || m.intent !== 'unknown' || m._id === s.hintRequestId) return;
      if (!s.lastInboundAt || new Date(s.lastInboundAt) < new Date(m.at)) return;
      const next = lines.slice(i + 1).find((l) => l.direction === 'in');
      const replied = lines.slice(i + 1, next ? lines.indexOf(next) : undefined).some((l) => l.direction === 'out');
      if (!replied) quiet.add(m._id);
    });
    return quiet;
  }
  return router;
}
