import type { Deps } from '../deps';
import { isDuplicateKey } from '../db/models';
import { securitySignal } from '../privacy/alerts';
import { closeRequest, openRequest } from './ledger';
import { outcome, text, type Outcome } from './outcome';
import { exportKey } from '../privacy/ids';
import { at, type Place } from '../privacy/pii';
import { exportContent, exportFilename, type ExportFormat } from './exportFiles';
import { renderExportPdf } from './exportPdf';
import { openField, type Subscriber } from './subscribers';

/** MY DATA requests allowed per subscriber per 24 h; more is refused with a friendly reply. */
export const ACCESS_LIMIT_PER_DAY = 3;
export const EXPORT_SCHEMA_VERSION = 1;
const EXPORT_TTL_MS = 7 * 86_400_000;

/**
 * MY DATA (GDPR Art. 15 and 20): an in-chat summary of the Art. 15 items, then everything held about
 * this person as two documents to the same number only: a PDF in their language to read (Art. 15),
 * then the same data as JSON, machine-readable (Art. 20). Both are made here, from one collection
 * of the data, and stored sealed for 7 days (exportFiles.ts); the outbox uploads them.
 */
export async function exportData(deps: Deps, s: Subscriber, r: { requestId: string; channel: string }): Promise<Outcome> {
  const { Request, Export, Subscriber: Subscribers } = deps.models;
  const replay = await Request.exists({ _id: r.requestId });
  if (!replay) {
    const since = new Date(deps.clock.now().getTime() - 86_400_000);
    const recent = await Request.countDocuments({ subscriberToken: s.key, type: 'access', receivedAt: { $gte: since } });
    if (recent >= ACCESS_LIMIT_PER_DAY) {
      securitySignal(deps, 'access_rate_limited', { subscriber: s.key.slice(0, 12) });
      return outcome('access_limited', text('myData.limited'));
    }
  }
  await openRequest(deps, { id: r.requestId, subscriberToken: s.key, type: 'access', channel: r.channel });
  // The language the keyword was just written in is remembered before this runs: read it back.
  const current = ((await Subscribers.findById(s._id).lean()) as Subscriber | null) ?? s;
  const data = await collectSubjectData(deps, current);
  const ids: Record<ExportFormat, string> = { pdf: exportKey(deps.pii, `${r.requestId}#pdf`), json: exportKey(deps.pii, r.requestId) };
  const now = deps.clock.now();
  const stored = new Set((await Export.find({ _id: { $in: Object.values(ids) } }, { _id: 1 }).lean()).map((e) => String(e._id)));
  for (const format of ['pdf', 'json'] as const) {
    const id = ids[format];
    if (stored.has(id)) continue; // a replay: the first copy stands
    // The PDF is rendered in the person's language; the use case only hands the translator over.
    const content = format === 'pdf' ? await renderExportPdf(deps.i18n, current.locale ?? deps.config.defaultLocale, data) : JSON.stringify(data, null, 2);
    try {
      await Export.collection.insertOne({
        _id: id as never,
        subscriberId: s._id,
        contentEnc: deps.pii.encrypt(exportContent(format, content), at('exports', 'contentEnc', id)),
        createdAt: now,
        expiresAt: new Date(now.getTime() + EXPORT_TTL_MS),
      });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }
  await closeRequest(deps, r.requestId, s.key, 'done', 'summary and export delivered');
  return outcome(
    'access_done',
    text('myData.summary', {
      messages: data.messages.length,
      messageDays: deps.config.retention.messagesDays,
      ledgerYears: Math.round(deps.config.retention.ledgerDays / 365),
    }),
    { kind: 'document', exportId: ids.pdf, captionKey: 'myData.documentPdf', filename: exportFilename('pdf', now) },
    { kind: 'document', exportId: ids.json, captionKey: 'myData.document', filename: exportFilename('json', now) },
  );
}

export type SubjectExport = Awaited<ReturnType<typeof collectSubjectData>>;

/** Everything we hold about one person, decrypted, in a versioned shape. Reads only their documents. */
export async function collectSubjectData(deps: Deps, s: Subscriber) {
  const { Consent, Message, Request } = deps.models;
  const open = (v: string | null | undefined, place: Place) => (v ? deps.pii.decrypt(v, place) : null);
  const [consents, messages, requests] = await Promise.all([
    Consent.find({ subscriberId: s._id }).sort({ at: 1 }).lean(),
    Message.find({ subscriberId: s._id }).sort({ at: 1 }).lean(),
    Request.find({ subscriberToken: s.key }).sort({ receivedAt: 1 }).lean(),
  ]);
  const waId = openField(deps, s, 'waIdEnc');
  return {
    schema: 'whatsapp-privacy-bot/subject-export',
    schemaVersion: EXPORT_SCHEMA_VERSION,
    generatedAt: deps.clock.now().toISOString(),
    controller: { name: deps.config.business.name, contact: deps.config.business.supportContact, privacyPolicy: deps.config.business.privacyPolicyUrl },
    subject: {
      whatsappNumber: waId ? `+${waId}` : null,
      businessScopedUserId: openField(deps, s, 'bsuidEnc'),
      profileName: openField(deps, s, 'nameEnc'),
      language: s.locale ?? null,
      firstContactAt: s.createdAt,
      lastActivityAt: s.lastActivityAt,
    },
    consent: {
      marketing: s.consent,
      since: s.consentAt ?? null,
      history: consents.map((c) => ({ action: c.action, scope: c.scope, source: c.source, detail: open(c.detailEnc, at('consents', 'detailEnc', c._id)), at: c.at })),
    },
    messages: messages.map((m) => ({ direction: m.direction, kind: m.kind, text: open(m.textEnc, at('messages', 'textEnc', m._id)), at: m.at, by: m.direction === 'out' ? m.by : 'you', status: m.status ?? null })),
    requests: requests.map((q) => ({ id: q._id, type: q.type, channel: q.channel, receivedAt: q.receivedAt, dueAt: q.dueAt, state: q.state, doneAt: q.doneAt, outcome: q.outcome })),
    processing: {
      purposes: ['answering your messages', 'sending messages you agreed to', 'handling your privacy requests'],
      recipients: ['Meta Platforms (WhatsApp Business Platform), as processor'],
      source: 'you, through WhatsApp',
      retention: {
        conversationMessagesDays: deps.config.retention.messagesDays,
        pseudonymousRequestRecordDays: deps.config.retention.ledgerDays,
      },
    },
  };
}
