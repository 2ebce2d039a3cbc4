import type { Config } from '../config';
import type { ReplySpec } from '../rights/outcome';
import type { Translator } from './i18n';

/**
 * A Graph API message body without its recipient (`to`/`recipient` is added at send time), plus
 * the plain text staff see in the conversation. Documents name the export to upload at send time.
 * Limits (Meta "Messages" reference): body ≤ 4096, button title ≤ 20, list row title ≤ 24,
 * description ≤ 72, ≤ 3 buttons, ≤ 10 rows.
 */
export interface Rendered {
  kind: 'text' | 'interactive' | 'document';
  body: Record<string, unknown>;
  display: string;
}

export function renderReply(tr: Translator, config: Config, locale: string, spec: ReplySpec): Rendered {
  const base = { business: config.business.name, support: config.business.supportContact, policy: config.business.privacyPolicyUrl };
  const t = (key: string, params?: Record<string, unknown>) => tr.t(locale, key, { ...base, ...resolveKeys(tr, locale, params) });
  switch (spec.kind) {
    case 'text': {
      const body = clip(t(spec.key, spec.params), 4096);
      return { kind: 'text', body: { type: 'text', text: { body, preview_url: false } }, display: body };
    }
    case 'lines': {
      const body = clip(spec.lines.map((l) => t(l.key, l.params)).join('\n'), 4096);
      return { kind: 'text', body: { type: 'text', text: { body, preview_url: false } }, display: body };
    }
    case 'buttons': {
      const body = clip(t(spec.key, spec.params), 1024);
      const buttons = spec.buttons.slice(0, 3).map((b) => ({ type: 'reply', reply: { id: b.id, title: clip(t(b.titleKey), 20) } }));
      return {
        kind: 'interactive',
        body: { type: 'interactive', interactive: { type: 'button', body: { text: body }, action: { buttons } } },
        display: `${body}\n${buttons.map((b) => `[${b.reply.title}]`).join(' ')}`,
      };
    }
    case 'list': {
      const body = clip(t(spec.key, spec.params), 1024);
      const rows = spec.rows.slice(0, 10).map((r) => ({
        id: r.id,
        title: clip(r.title ?? t(r.titleKey ?? ''), 24),
        ...(r.descriptionKey ? { description: clip(t(r.descriptionKey), 72) } : {}),
      }));
      return {
        kind: 'interactive',
        body: {
          type: 'interactive',
          interactive: { type: 'list', body: { text: body }, action: { button: clip(t(spec.buttonKey), 20), sections: [{ title: clip(t(spec.sectionKey), 24), rows }] } },
        },
        display: `${body}\n${rows.map((r) => `• ${r.title}`).join('\n')}`,
      };
    }
    case 'document': {
      const caption = clip(t(spec.captionKey), 1024);
      return {
        kind: 'document',
        body: { type: 'document', document: { filename: spec.filename, caption }, exportId: spec.exportId },
        display: `📎 ${spec.filename} — ${caption}`,
      };
    }
  }
}

function resolveKeys(tr: Translator, locale: string, params?: Record<string, unknown>): Record<string, unknown> {
  if (!params) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k.endsWith('Key') && typeof v === 'string') out[k.slice(0, -3)] = tr.t(locale, v);
    else out[k] = v;
  }
  return out;
}

function clip(s: string, max: number): string {
  return [...s].length <= max ? s : `${[...s].slice(0, max - 1).join('')}…`;
}
