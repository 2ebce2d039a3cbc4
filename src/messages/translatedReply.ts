import type { ButtonId } from './buttonIds';

/**
 * A reply in words, as translateReply.ts translates a ReplySpec: every text is final, no limit is
 * applied yet (buildMessage.ts fits them to Meta's).
 */
export type TranslatedReply =
  | { kind: 'text'; body: string }
  | { kind: 'buttons'; body: string; buttons: { id: ButtonId; title: string }[] }
  | { kind: 'list'; body: string; button: string; section: string; rows: { id: ButtonId; title: string; description?: string }[] }
  | { kind: 'document'; exportId: string; filename: string; caption: string };
