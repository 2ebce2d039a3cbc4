import { ActionButtons, ActionList, Body, Button, Document, Interactive, Language, ListSection, Row, Template, Text } from 'whatsapp-api-js/messages';
import type { ClientMessage } from 'whatsapp-api-js/types';
import { encodeButtonId } from './buttonIds';
import { fit, LIMITS } from './limits';
import type { TranslatedReply } from './translatedReply';

/**
 * Every message we send is built here, from whatsapp-api-js's message classes
 * (https://github.com/Secreto31126/whatsapp-api-js, `src/messages/`), after each text is fitted to
 * Meta's limits (limits.ts) — the classes throw on a text over a limit, so nothing over one is
 * ever queued. The Graph body is what that library sends: `{ type, [type]: message }` as JSON
 * (its `sendMessage`); graphClient.ts adds the recipient and sends it.
 */

/** A Graph API message body without its recipient. */
export type GraphBody = { type: string } & Record<string, unknown>;

/**
 * A MY DATA document before its upload: what the outbox keeps until the worker has uploaded the
 * export and sends `documentBody(mediaId, …)`. The sandbox shows it as a download link.
 */
export type PendingDocumentBody = {
  type: 'document';
  exportId: string;
  document: { filename: string; caption: string };
};

export interface BuiltMessage {
  kind: 'text' | 'interactive' | 'document';
  body: GraphBody | PendingDocumentBody;
  /** The plain text staff see in the conversation. */
  display: string;
}

/** A translated reply (not a document) as the library's message object, every text within its limit. */
export function toMessage(reply: Exclude<TranslatedReply, { kind: 'document' }>): Text | Interactive {
  switch (reply.kind) {
    case 'text':
      return new Text(fit(reply.body, 'textBody'));
    case 'buttons': {
      const buttons = reply.buttons.slice(0, LIMITS.replyButtons).map((b) => new Button(encodeButtonId(b.id), fit(b.title, 'buttonTitle')));
      return new Interactive(new ActionButtons(...atLeastOne(buttons, 'reply buttons')), new Body(fit(reply.body, 'interactiveBody')));
    }
    case 'list': {
      const rows = reply.rows
        .slice(0, LIMITS.rowsTotal)
        .map(
          (r) =>
            new Row(
              encodeButtonId(r.id),
              present(fit(r.title, 'rowTitle'), 'a list row title'),
              r.description ? fit(r.description, 'rowDescription') : undefined,
            ),
        );
      const section = new ListSection(fit(reply.section, 'sectionTitle'), ...atLeastOne(rows, 'list rows'));
      return new Interactive(new ActionList(fit(reply.button, 'listButton'), section), new Body(fit(reply.body, 'interactiveBody')));
    }
  }
}

/**
 * The library refuses some interactive messages a translation could produce (two buttons whose
 * titles clip to the same 20 characters, a row title that is only spaces). The use case has
 * already acted by then, so the answer still goes: as text that lists the choices, which the
 * person can type back (a typed button title counts, chat/handleMessage.ts).
 */
function interactiveOrText(reply: Exclude<TranslatedReply, { kind: 'document' }>): Text | Interactive {
  try {
    return toMessage(reply);
  } catch (err) {
    if (reply.kind === 'text') throw err;
    const choices: { title: string; description?: string }[] = reply.kind === 'buttons' ? reply.buttons : reply.rows;
    const lines = choices.filter((c) => c.title.trim()).map((c) => `• ${c.description?.trim() ? `${c.title} — ${c.description}` : c.title}`);
    return new Text(fit([reply.body, ...lines].join('\n'), 'textBody'));
  }
}

/** A translated reply as the outbox keeps it: the Graph body (a document: before its upload) and what staff see. */
export function buildMessage(reply: TranslatedReply): BuiltMessage {
  if (reply.kind === 'document') {
    const caption = fit(reply.caption, 'documentCaption');
    const filename = present(reply.filename, 'a document filename');
    return { kind: 'document', body: { type: 'document', exportId: reply.exportId, document: { filename, caption } }, display: `📎 ${filename} — ${caption}` };
  }
  const message = interactiveOrText(reply);
  if (message instanceof Text) return { kind: 'text', body: toGraphBody(message), display: message.body };
  return { kind: 'interactive', body: toGraphBody(message), display: displayOf(message) };
}

/** Free-form text (staff, the integration API); their edges already refuse more than Meta's 4096. */
export function textBody(text: string): GraphBody {
  return toGraphBody(new Text(fit(text, 'textBody')));
}

/**
 * The utility template sent instead of a reply outside the 24-hour window (outbox/worker.ts), in
 * the person's language (https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates).
 */
export function templateBody(name: string, locale: string): GraphBody {
  return toGraphBody(new Template(name, new Language(locale)));
}

/** The document message once its file is uploaded (`mediaId`). */
export function documentBody(mediaId: string, pending: PendingDocumentBody): GraphBody {
  const { filename, caption } = pending.document;
  return toGraphBody(new Document(mediaId, true, fit(caption, 'documentCaption'), filename));
}

export function isPendingDocument(body: Record<string, unknown>): body is Record<string, unknown> & PendingDocumentBody {
  return body.type === 'document' && typeof body.exportId === 'string';
}

/** The body whatsapp-api-js would post, as plain JSON (its classes serialise to Meta's shapes). */
export function toGraphBody(m: ClientMessage): GraphBody {
  return JSON.parse(JSON.stringify({ type: m._type, [m._type]: m })) as GraphBody;
}

function displayOf(m: Interactive): string {
  const body = m.body?.text ?? '';
  if (m.action instanceof ActionButtons) return `${body}\n${m.action.buttons.map((b) => `[${b.reply.title}]`).join(' ')}`;
  if (m.action instanceof ActionList) return `${body}\n${m.action.sections.flatMap((s) => s.rows.map((r) => `• ${r.title}`)).join('\n')}`;
  return body;
}

function atLeastOne<T>(items: T[], what: string): [T, ...T[]] {
  if (!items.length) throw new Error(`${what}: at least one is required`);
  return items as [T, ...T[]];
}

function present(s: string, what: string): string {
  if (!s.trim()) throw new Error(`${what} must not be empty`);
  return s;
}
