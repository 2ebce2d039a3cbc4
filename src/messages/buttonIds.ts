/**
 * The ids of the buttons and list rows we send, as typed values. A tap comes back with the id
 * (`interactive.button_reply.id` / `list_reply.id`,
 * https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components), so the id is the
 * whole protocol between a message we sent and the person's answer: producers (rights/) build
 * values, the messages module encodes them, chat/decide.ts parses what comes back. Nothing else
 * spells an id.
 *
 * The wire format is fixed: buttons already delivered to phones keep being pressed, days later.
 * - a question's answer: `erase.yes.<nonce>`, `erase.no.<nonce>`, `optout.yes.<nonce>`, `optout.no.<nonce>`
 *   (the nonce is the question's own, rights/questions.ts);
 * - a HELP menu row: `help.stop`, `help.start`, `help.my_data`, `help.delete`, `help.status`, `help.language`;
 * - a LANGUAGE list row: `lang.<language code>` (two letters for ours, two or three for one a deployer adds).
 */
export type QuestionKind = 'erasure' | 'opt_out_question';
export type Answer = 'yes' | 'no';
export const MENU_CHOICES = ['stop', 'start', 'my_data', 'delete', 'status', 'language'] as const;
export type MenuChoice = (typeof MENU_CHOICES)[number];

export type ButtonId =
  { kind: 'answer'; question: QuestionKind; answer: Answer; nonce: string } | { kind: 'menu'; choice: MenuChoice } | { kind: 'language'; locale: string };

const QUESTION_PREFIX: Record<QuestionKind, string> = { erasure: 'erase', opt_out_question: 'optout' };
const NONCE = /^[A-Za-z0-9_-]{6,32}$/;
const LOCALE = /^[a-z]{2,3}$/;
const ANSWER_ID = /^(erase|optout)\.(yes|no)\.([A-Za-z0-9_-]{6,32})$/;
const MENU_ID = new RegExp(`^help\\.(${MENU_CHOICES.join('|')})$`);
const LANGUAGE_ID = /^lang\.([a-z]{2,3})$/;

/** The id sent for a value. Throws on a value no parser would read back (a bug, not input). */
export function encodeButtonId(v: ButtonId): string {
  switch (v.kind) {
    case 'answer':
      if (!NONCE.test(v.nonce)) throw new Error('a question nonce is 6–32 characters of [A-Za-z0-9_-]');
      return `${QUESTION_PREFIX[v.question]}.${v.answer}.${v.nonce}`;
    case 'menu':
      return `help.${v.choice}`;
    case 'language':
      if (!LOCALE.test(v.locale)) throw new Error('a language choice is a two- or three-letter code');
      return `lang.${v.locale}`;
  }
}

/** The value of an id a person sent back; null for any id we do not issue (a campaign's own buttons). */
export function parseButtonId(id: string): ButtonId | null {
  const answer = ANSWER_ID.exec(id);
  if (answer) return { kind: 'answer', question: answer[1] === 'erase' ? 'erasure' : 'opt_out_question', answer: answer[2] as Answer, nonce: answer[3] };
  const menu = MENU_ID.exec(id);
  if (menu) return { kind: 'menu', choice: menu[1] as MenuChoice };
  const lang = LANGUAGE_ID.exec(id);
  if (lang) return { kind: 'language', locale: lang[1] };
  return null;
}
