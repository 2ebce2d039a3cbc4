import type { Answer, ButtonId, QuestionKind } from '../messages/buttonIds';
import type { Pii } from '../privacy/pii';

/**
 * The two questions the bot asks (confirm an erasure; confirm an opt-out it was not sure of) and
 * their buttons. A question is answered only by the buttons issued for it: their ids carry the
 * question's own nonce, so a button of an earlier question, or any button we did not issue (a
 * campaign's "Yes"), is never taken as the answer (chat/decide.ts). The nonce is a keyed hash of
 * the request id, so handling the same message twice offers the same buttons. How an id is
 * spelled on the wire is messages/buttonIds.ts's.
 */
export type { Answer, QuestionKind };

const TITLE_KEYS: Record<QuestionKind, Record<Answer, string>> = {
  erasure: { yes: 'erase.yes', no: 'erase.no' },
  opt_out_question: { yes: 'optOut.questionYes', no: 'optOut.questionNo' },
};

export function questionId(keys: Pick<Pii, 'blindIndex'>, requestId: string): string {
  return keys.blindIndex(`question:${requestId}`).slice(0, 12);
}

export function questionButtons(question: QuestionKind, nonce: string): { id: ButtonId; titleKey: string }[] {
  return (['yes', 'no'] as const).map((answer) => ({ id: { kind: 'answer', question, answer, nonce }, titleKey: TITLE_KEYS[question][answer] }));
}
