import type { ButtonId } from './buttonIds';

/**
 * A reply as a use case states it: message keys and parameters, buttons and rows as typed ids.
 * No text and no Graph shapes: translateReply.ts puts it in words (translatedReply.ts) and
 * buildMessage.ts turns that into the message Meta receives.
 *
 * Params whose name ends in `Key` are message keys themselves: the translator translates them and
 * passes the result under the name without the suffix (`typeKey` → `type`).
 */
export type ReplySpec =
  | { kind: 'text'; key: string; params?: Record<string, unknown> }
  | { kind: 'lines'; lines: { key: string; params?: Record<string, unknown> }[] }
  | { kind: 'buttons'; key: string; params?: Record<string, unknown>; buttons: { id: ButtonId; titleKey: string }[] }
  | {
      kind: 'list';
      key: string;
      params?: Record<string, unknown>;
      buttonKey: string;
      sectionKey: string;
      /** A row's title is a message key, or a fixed `title` (a language's own name). */
      rows: { id: ButtonId; titleKey?: string; title?: string; descriptionKey?: string }[];
    }
  | { kind: 'document'; exportId: string; captionKey: string; filename: string };
