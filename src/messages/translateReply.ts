import type { Translate } from '../i18n/render';
import type { ReplySpec } from './replySpec';
import type { TranslatedReply } from './translatedReply';

/** A use case's reply in words: every message key through `t` (i18n/render.ts), nothing fitted yet. */
export function translateReply(t: Translate, spec: ReplySpec): TranslatedReply {
  switch (spec.kind) {
    case 'text':
      return { kind: 'text', body: t(spec.key, spec.params) };
    case 'lines':
      return { kind: 'text', body: spec.lines.map((l) => t(l.key, l.params)).join('\n') };
    case 'buttons':
      return { kind: 'buttons', body: t(spec.key, spec.params), buttons: spec.buttons.map((b) => ({ id: b.id, title: t(b.titleKey) })) };
    case 'list':
      return {
        kind: 'list',
        body: t(spec.key, spec.params),
        button: t(spec.buttonKey),
        section: t(spec.sectionKey),
        rows: spec.rows.map((r) => ({ id: r.id, title: r.title ?? t(r.titleKey ?? ''), ...(r.descriptionKey ? { description: t(r.descriptionKey) } : {}) })),
      };
    case 'document':
      return { kind: 'document', exportId: spec.exportId, filename: spec.filename, caption: t(spec.captionKey) };
  }
}
