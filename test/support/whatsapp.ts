import { createHmac } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { TEST_APP_SECRET, TEST_PHONE_NUMBER_ID } from './harness';

/** The signed WhatsApp fixtures that CI places in the folder beside the project (see FIXTURES below). */
export const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'shared', 'fixtures', 'whatsapp');

/**
 * Serialises like Meta: compact JSON, non-ASCII as \uXXXX (lowercase hex, UTF-16 units), "/" as "\/".
 * Meta signs these exact bytes, so the signature check must run on the raw body.
 */
export function metaWire(payload: unknown): string {
  return JSON.stringify(payload)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function sign(raw: string | Buffer, secret = TEST_APP_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
}

export function wireFixture(name: string): { raw: string; signature: string } {
  const raw = readFileSync(path.join(FIXTURES, 'wire', `${name}.wire.json`), 'utf8');
  const sigs = readFileSync(path.join(FIXTURES, 'wire', 'SIGNATURES.tsv'), 'utf8');
  const line = sigs.split('\n').find((l) => l.startsWith(`${name}.wire.json\t`));
  if (!line) throw new Error(`no signature for ${name}`);
  return { raw, signature: line.split('\t')[1].trim() };
}

export function wireFixtureNames(): string[] {
  return readdirSync(path.join(FIXTURES, 'wire'))
    .filter((f) => f.endsWith('.wire.json'))
    .map((f) => f.replace(/\.wire\.json$/, ''));
}

let counter = 0;
/**
 * A message id shaped like Meta's: `wamid.` + base64 of `1c 18 <len> <the number's digits> 15 02 00
 * 12 18 14 <20 hex> 00` (a public sample decodes this way), so the number is recoverable from it,
 * as from a real one. Without a number, random digits stand in.
 */
export function wamid(waId?: string): string {
  counter += 1;
  const digits = waId ?? `1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
  const tail = `${Date.now().toString(16)}${process.pid.toString(16)}${counter.toString(16)}`.toUpperCase().padStart(20, '0').slice(-20);
  const raw = Buffer.concat([
    Buffer.from([0x1c, 0x18, digits.length]),
    Buffer.from(digits),
    Buffer.from([0x15, 0x02, 0x00, 0x12, 0x18, 0x14]),
    Buffer.from(tail),
    Buffer.from([0x00]),
  ]);
  return `wamid.${raw.toString('base64')}`;
}

type Msg = Record<string, unknown>;

export interface Contact {
  waId: string;
  name?: string;
  bsuid?: string;
  /** The business number written to (default: the test configuration's). */
  phoneNumberId?: string;
}

/** A `messages` change with one or more messages from one contact. */
export function messagesChange(contact: Contact, messages: Msg[]) {
  return {
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550001111', phone_number_id: contact.phoneNumberId ?? TEST_PHONE_NUMBER_ID },
      contacts: [{ profile: { name: contact.name ?? 'Test Person' }, wa_id: contact.waId, ...(contact.bsuid ? { user_id: contact.bsuid } : {}) }],
      messages: messages.map((m) => ({ from: contact.waId, ...(contact.bsuid ? { from_user_id: contact.bsuid } : {}), ...m, id: m.id ?? wamid(contact.waId) })),
    },
    field: 'messages',
  };
}

export function envelope(...changes: unknown[]) {
  return { object: 'whatsapp_business_account', entry: [{ id: '100000000000001', changes }] };
}

/** Without an id, `messagesChange` gives the message one that encodes its sender's number, like Meta's. */
export function textMessage(text: string, opts: { id?: string; timestamp?: number } = {}): Msg {
  return { id: opts.id, timestamp: String(opts.timestamp ?? Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } };
}

export function buttonReply(id: string, title: string, opts: { id?: string } = {}): Msg {
  return {
    id: opts.id,
    timestamp: String(Math.floor(Date.now() / 1000)),
    type: 'interactive',
    interactive: { type: 'button_reply', button_reply: { id, title } },
  };
}

export function listReply(id: string, title: string): Msg {
  return {
    id: undefined,
    timestamp: String(Math.floor(Date.now() / 1000)),
    type: 'interactive',
    interactive: { type: 'list_reply', list_reply: { id, title, description: '' } },
  };
}

export function statusChange(status: {
  id: string;
  status: string;
  recipientId: string;
  errors?: unknown[];
  callback?: string;
  phoneNumberId?: string;
  timestamp?: number;
}) {
  return {
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550001111', phone_number_id: status.phoneNumberId ?? TEST_PHONE_NUMBER_ID },
      statuses: [
        {
          id: status.id,
          status: status.status,
          timestamp: String(status.timestamp ?? Math.floor(Date.now() / 1000)),
          recipient_id: status.recipientId,
          ...(status.callback ? { biz_opaque_callback_data: status.callback } : {}),
          ...(status.errors ? { errors: status.errors } : {}),
        },
      ],
    },
    field: 'messages',
  };
}

/** A signed delivery ready to post: `{ raw, signature }`. */
export function signed(payload: unknown, secret?: string): { raw: string; signature: string } {
  const raw = metaWire(payload);
  return { raw, signature: sign(raw, secret) };
}

/** Shortcut: a signed delivery of one text message from one number. */
export function signedText(waId: string, text: string, opts: { id?: string; name?: string } = {}) {
  return signed(envelope(messagesChange({ waId, name: opts.name }, [textMessage(text, { id: opts.id })])));
}
