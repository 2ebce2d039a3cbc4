/**
 * Meta's limits on the messages we send, from the Cloud API messages reference
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages) and its pages on
 * interactive reply buttons, list messages and document messages. Meta refuses a message with a
 * field over its limit, so the reply would never be seen: everything is fitted here, where the
 * message is built (buildMessage.ts), and whatsapp-api-js's own checks then hold too.
 *
 * Lengths are counted in UTF-16 code units (`String.length`). Meta does not say how it counts;
 * whatsapp-api-js, zod and every JavaScript client count code units, and a code-unit count is never
 * below the code-point count, so a text within it is within either reading. Clipping never splits a
 * character: it cuts between graphemes (an emoji with its modifiers stays whole or goes whole).
 */
export const LIMITS = {
  /** `text.body`. */
  textBody: 4096,
  /**
   * `interactive.body.text`: 1024 for reply buttons; Meta's list page allows 4096 for lists, but
   * whatsapp-api-js's `Body` applies 1024 to every interactive type, and so do we.
   */
  interactiveBody: 1024,
  /** `interactive.header.text` and `interactive.footer.text`. */
  headerText: 60,
  footerText: 60,
  /** Reply buttons: at most 3, titles unique and non-empty. */
  replyButtons: 3,
  buttonTitle: 20,
  buttonId: 256,
  /** List messages: the button that opens the list, sections and rows. */
  listButton: 20,
  sections: 10,
  /** Rows across all sections together (whatsapp-api-js checks 10 per section only). */
  rowsTotal: 10,
  sectionTitle: 24,
  rowTitle: 24,
  rowDescription: 72,
  rowId: 200,
  /** `document.caption` (media captions). Meta sets no length for `document.filename`. */
  documentCaption: 1024,
} as const;

export type Limit = keyof typeof LIMITS;

const ELLIPSIS = '…';
const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });

/**
 * `s` if it fits in `max` code units, else as many whole graphemes as fit before an ellipsis (which
 * counts: the result is never longer than `max`). Trailing spaces before the ellipsis are dropped.
 */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let out = '';
  for (const { segment } of graphemes.segment(s)) {
    if (out.length + segment.length + ELLIPSIS.length > max) break;
    out += segment;
  }
  return `${out.trimEnd()}${ELLIPSIS}`;
}

/** Like `clip`, for a named limit. */
export const fit = (s: string, limit: Limit): string => clip(s, LIMITS[limit]);
