import type { Deps } from '../deps';
import { isDuplicateKey } from '../db/models';
import { securitySignal } from '../privacy/alerts';
import { closeRequest, openRequest } from './ledger';
import { outcome, text, type Outcome } from './outcome';
import { exportKey } from '../privacy/ids';
import { at, type Place } from '../privacy/pii';
import { openField, type Subscriber } from './subscribers';

/** MY DATA requests allowed per subscriber per 24 h; more is refused with a friendly reply. */
export const ACCESS_LIMIT_PER_DAY = 3;
export const EXPORT_SCHEMA_VERSION = 1;
const EXPORT_TTL_MS = 7 * 86_400_000;

/**
 * MY DATA (GDPR Art. 15 and 20): an in-chat summary of the Art. 15 items, then a machine-readable
 * copy of everything held about this person, delivered as a document to the same number only.
 */
export async function exportData(deps: Deps, s: Subscriber, r: { requestId: string; channel: string }): Promise<Outcome> {
  const { Request } = deps.models;
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
  const data = await collectSubjectData(deps, s);
  const exportId = exportKey(deps.pii, r.requestId);
  const now = deps.clock.now();
  try {
    await deps.models.Export.collection.insertOne({
      _id: exportId as never,
      subscriberId: s._id,
      contentEnc: deps.pii.encrypt(JSON.stringify(data), at('exports', 'contentEnc', exportId)),
      createdAt: now,
      expiresAt: new Date(now.getTime() + EXPORT_TTL_MS),
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  await closeRequest(deps, r.requestId, s.key, 'done', 'summary and export delivered');
  return outcome(
    'access_done',
    text('myData.summary', {
      messages: data.messages.length,
      messageDays: deps.config.retention.messagesDays,
      ledgerYears: Math.round(deps.config.retention.ledgerDays / 365),
    }),
    { kind: 'document', exportId, captionKey: 'myData.document', filename: `my-data-${now.toISOString().slice(0, 10)}.json` },
  );
}

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
