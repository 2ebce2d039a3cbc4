/**
 * What a use case hands back: an outcome name (for logs, tests and the console) and the replies
 * as message keys. Nothing here knows about HTTP, i18next or the Graph API.
 */
/**
 * Params whose name ends in `Key` are message keys themselves: the renderer translates them and
 * passes the result under the name without the suffix (`typeKey` → `type`).
 */
export type ReplySpec =
  | { kind: 'text'; key: string; params?: Record<string, unknown> }
  | { kind: 'lines'; lines: { key: string; params?: Record<string, unknown> }[] }
  | { kind: 'buttons'; key: string; params?: Record<string, unknown>; buttons: { id: string; titleKey: string }[] }
  | {
      kind: 'list';
      key: string;
      params?: Record<string, unknown>;
      buttonKey: string;
      sectionKey: string;
      rows: { id: string; titleKey?: string; title?: string; descriptionKey?: string }[];
    }
  | { kind: 'document'; exportId: string; captionKey: string; filename: string };

export interface Outcome {
  kind: string;
  replies: ReplySpec[];
  /** Locale to reply in, when the use case changed it (LANGUAGE). */
  locale?: string;
}

export const text = (key: string, params?: Record<string, unknown>): ReplySpec => ({ kind: 'text', key, params });
export const outcome = (kind: string, ...replies: ReplySpec[]): Outcome => ({ kind, replies });
