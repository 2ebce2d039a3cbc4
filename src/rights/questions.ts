import type { Deps } from '../deps';

/**
 * The two questions the bot asks (confirm an erasure; confirm an opt-out it was not sure of) and
 * the ids of their buttons. A question is answered only by the buttons issued for it: their ids
 * carry the question's own nonce, so a button of an earlier question, or any button we did not
 * issue (a campaign's "Yes"), is never taken as the answer. The nonce is a keyed hash of the
 * request id, so handling the same message twice offers the same buttons.
 */
export type QuestionKind = 'erasure' | 'opt_out_question';
export type Answer = 'yes' | 'no';

const PREFIX: Record<QuestionKind, string> = { erasure: 'erase', opt_out_question: 'optout' };
const TITLE_KEYS: Record<QuestionKind, Record<Answer, string>> = {
  erasure: { yes: 'erase.yes', no: 'erase.no' },
  opt_out_question: { yes: 'optOut.questionYes', no: 'optOut.questionNo' },
};
const BUTTON_ID = /^(erase|optout)\.(yes|no)\.([A-Za-z0-9_-]{6,32})$/;

export function questionId(deps: Deps, requestId: string): string {
  return deps.pii.blindIndex(`question:${requestId}`).slice(0, 12);
}

export function questionButtons(kind: QuestionKind, qid: string): { id: string; titleKey: string }[] {
  return (['yes', 'no'] as const).map((a) => ({ id: `${PREFIX[kind]}.${a}.${qid}`, titleKey: TITLE_KEYS[kind][a] }));
}

export function parseQuestionButton(id: string): { kind: QuestionKind; answer: Answer; qid: string } | null {
  const m = BUTTON_ID.exec(id);
  if (!m) return null;
  return { kind: m[1] === 'erase' ? 'erasure' : 'opt_out_question', answer: m[2] as Answer, qid: m[3] };
}
