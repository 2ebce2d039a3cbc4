import type { Config } from '../config';
import type { Translator } from '../i18n/i18n';
import { translatorFor } from '../i18n/render';
import { buildMessage, type BuiltMessage } from './buildMessage';
import type { ReplySpec } from './replySpec';
import { translateReply } from './translateReply';

export type Rendered = BuiltMessage;

/** A use case's reply as the outbox keeps it: in the person's language (translateReply.ts), built and fitted (buildMessage.ts). */
export function renderReply(tr: Translator, config: Pick<Config, 'business'>, locale: string, spec: ReplySpec): Rendered {
  return buildMessage(translateReply(translatorFor(tr, config.business, locale), spec));
}
