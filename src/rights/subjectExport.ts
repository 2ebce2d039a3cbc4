import type { Clock } from '../lib/clock';
import type { ConsentStore } from '../store/consentStore';
import type { ConversationStore } from '../store/conversationStore';
import type { RequestStore } from '../store/requestStore';
import type { Subscriber, SubscriberStore } from '../store/subscriberStore';
import type { Policy } from './policy';

export const EXPORT_SCHEMA_VERSION = 1;

/** What collecting a person's data reads: their profile, consents, conversation and requests. */
export interface CollectContext {
  subscribers: SubscriberStore;
  consents: ConsentStore;
  conversation: ConversationStore;
  requests: RequestStore;
  clock: Clock;
  policy: Pick<Policy, 'business' | 'retention'>;
}

export type SubjectExport = Awaited<ReturnType<typeof collectSubjectData>>;

/** Everything we hold about one person, decrypted, in a versioned shape. Reads only their documents. */
export async function collectSubjectData(ctx: CollectContext, s: Subscriber) {
  const [consents, messages, requests] = await Promise.all([ctx.consents.historyOf(s._id), ctx.conversation.linesOf(s._id), ctx.requests.ofPerson(s.key)]);
  const waId = ctx.subscribers.open(s, 'waIdEnc');
  const { business, retention } = ctx.policy;
  return {
    schema: 'whatsapp-privacy-bot/subject-export',
    schemaVersion: EXPORT_SCHEMA_VERSION,
    generatedAt: ctx.clock.now().toISOString(),
    controller: { name: business.name, contact: business.supportContact, privacyPolicy: business.privacyPolicyUrl },
    subject: {
      whatsappNumber: waId ? `+${waId}` : null,
      businessScopedUserId: ctx.subscribers.open(s, 'bsuidEnc'),
      profileName: ctx.subscribers.open(s, 'nameEnc'),
      language: s.locale ?? null,
      firstContactAt: s.createdAt,
      lastActivityAt: s.lastActivityAt,
    },
    consent: { marketing: s.consent, since: s.consentAt ?? null, history: consents },
    messages: messages.map((m) => ({
      direction: m.direction,
      kind: m.kind,
      text: m.text,
      at: m.at,
      by: m.direction === 'out' ? m.by : 'you',
      status: m.status ?? null,
    })),
    requests: requests.map((q) => ({
      id: q._id,
      type: q.type,
      channel: q.channel,
      receivedAt: q.receivedAt,
      dueAt: q.dueAt,
      state: q.state,
      doneAt: q.doneAt,
      outcome: q.outcome,
    })),
    processing: {
      purposes: ['answering your messages', 'sending messages you agreed to', 'handling your privacy requests'],
      recipients: ['Meta Platforms (WhatsApp Business Platform), as processor'],
      source: 'you, through WhatsApp',
      retention: { conversationMessagesDays: retention.messagesDays, pseudonymousRequestRecordDays: retention.ledgerDays },
    },
  };
}
