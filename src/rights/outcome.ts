import type { ReplySpec } from '../messages/replySpec';

/**
 * What a use case hands back: an outcome name (for logs, tests and the console) and the replies
 * as message keys, their buttons as typed ids (the shape is messages/replySpec.ts). Nothing here
 * knows about HTTP, i18next or the Graph API.
 */
export type { ReplySpec };

export interface Outcome {
  kind: string;
  replies: ReplySpec[];
  /** Locale to reply in, when the use case changed it (LANGUAGE). */
  locale?: string;
}

export const text = (key: string, params?: Record<string, unknown>): ReplySpec => ({ kind: 'text', key, params });
export const outcome = (kind: string, ...replies: ReplySpec[]): Outcome => ({ kind, replies });
