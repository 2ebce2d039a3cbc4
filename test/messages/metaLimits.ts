import { parseButtonId } from '../../src/messages/buttonIds';

/**
 * One checker for every message body the bot sends, stated from Meta's pages rather than from our
 * own constants (src/messages/limits.ts), so a wrong constant there fails here:
 * https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages and its pages on
 * text, reply-button, list, document and template messages. Lengths are UTF-16 code units (the
 * stricter reading, see limits.ts), and no text may hold half of a surrogate pair.
 * Returns the problems found; [] when the body is one Meta accepts.
 */
export function metaProblems(b: Record<string, any>): string[] {
  const problems: string[] = [];
  const fail = (p: string) => problems.push(p);
  const text = (v: unknown, what: string, max: number, required = true) => {
    if (v === undefined && !required) return;
    if (typeof v !== 'string') return fail(`${what}: not a string`);
    if (required && !v.trim()) fail(`${what}: empty`);
    if (v.length > max) fail(`${what}: ${v.length} > ${max}`);
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(v)) fail(`${what}: a split surrogate pair`);
  };
  const ourId = (id: unknown, what: string, max: number) => {
    text(id, what, max);
    if (typeof id === 'string' && /^ | $/.test(id)) fail(`${what}: leading or trailing space`);
    if (typeof id === 'string' && !parseButtonId(id)) fail(`${what}: ${id} is not an id we can read back`);
  };
  const unique = (values: unknown[], what: string) => {
    if (new Set(values).size !== values.length) fail(`${what}: not unique`);
  };

  if (b.messaging_product !== undefined && b.messaging_product !== 'whatsapp') fail('messaging_product');
  if (b.biz_opaque_callback_data !== undefined) text(b.biz_opaque_callback_data, 'biz_opaque_callback_data', 512);
  const types = ['text', 'interactive', 'document', 'template'];
  if (!types.includes(b.type)) return [...problems, `type ${String(b.type)} is not one we send`];
  for (const t of types) if (t !== b.type && b[t] !== undefined) fail(`a ${t} object in a ${b.type} message`);
  const m = b[b.type];
  if (!m || typeof m !== 'object') return [...problems, `no ${b.type} object`];

  switch (b.type) {
    case 'text':
      text(m.body, 'text.body', 4096);
      break;
    case 'document':
      if (!m.id && !m.link) fail('document: neither id nor link');
      text(m.caption, 'document.caption', 1024, false);
      // No length is given for a filename; the client picks the icon from its extension.
      if (m.filename !== undefined && !/^[^/\\]+\.[A-Za-z0-9]+$/.test(m.filename)) fail(`document.filename ${m.filename}: no extension`);
      break;
    case 'template':
      // Template names are lowercase letters, digits and underscores; languages are codes like en or pt_BR.
      if (!/^[a-z0-9_]+$/.test(String(m.name))) fail(`template.name ${m.name}`);
      if (!/^[a-z]{2,3}(_[A-Z]{2})?$/.test(String(m.language?.code))) fail(`template.language.code ${m.language?.code}`);
      break;
    case 'interactive': {
      text(m.body?.text, 'interactive.body.text', 1024);
      if (m.header) text(m.header.text, 'interactive.header.text', 60);
      if (m.footer) text(m.footer.text, 'interactive.footer.text', 60);
      if (m.type === 'button') {
        const buttons: any[] = m.action?.buttons ?? [];
        if (buttons.length < 1 || buttons.length > 3) fail(`${buttons.length} reply buttons`);
        buttons.forEach((x, i) => {
          if (x.type !== 'reply') fail(`button ${i}: type ${x.type}`);
          ourId(x.reply?.id, `button ${i} id`, 256);
          text(x.reply?.title, `button ${i} title`, 20);
        });
        unique(
          buttons.map((x) => x.reply?.id),
          'button ids',
        );
        unique(
          buttons.map((x) => x.reply?.title),
          'button titles',
        );
      } else if (m.type === 'list') {
        text(m.action?.button, 'list button', 20);
        const sections: any[] = m.action?.sections ?? [];
        if (sections.length < 1 || sections.length > 10) fail(`${sections.length} sections`);
        sections.forEach((s, i) => text(s.title, `section ${i} title`, 24, sections.length > 1));
        const rows: any[] = sections.flatMap((s) => s.rows ?? []);
        if (rows.length < 1 || rows.length > 10) fail(`${rows.length} rows in all`);
        rows.forEach((r, i) => {
          ourId(r.id, `row ${i} id`, 200);
          text(r.title, `row ${i} title`, 24);
          text(r.description, `row ${i} description`, 72, false);
        });
        unique(
          rows.map((r) => r.id),
          'row ids',
        );
      } else {
        fail(`interactive type ${String(m.type)} is not one we send`);
      }
      break;
    }
  }
  return problems;
}
