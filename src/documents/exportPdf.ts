import { readFileSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import type { Translator } from '../i18n/i18n';
import type { SubjectExport } from '../rights/subjectExport';

/** Characters of one message shown in the PDF; the JSON has them all. */
export const PDF_TEXT_MAX = 1000;

/**
 * The MY DATA export as a PDF a person can read (GDPR Art. 15: an intelligible copy), in their
 * language: a summary, the consent history, the requests and every message with its time and
 * direction, then how the data is used. It is made from the same collected data as the JSON file,
 * at the same moment, so the two never disagree.
 *
 * Rendering happens here, at the edge, like the chat replies (i18n/render.ts): the texts come
 * from locales/<lng>/translation.json through the Translator handed in; nothing here reads the
 * database or knows i18next.
 *
 * The font is DejaVu Sans (npm `dejavu-fonts-ttf`, bundled, no network): every character of the
 * six languages and most Latin, Greek, Cyrillic, Hebrew and Arabic text. A character it has no
 * glyph for (CJK, most emoji, Indic scripts) is shown as � (one per visible character), so the
 * page neither breaks nor shows empty boxes; a closing note then says so, and that the JSON file
 * holds the exact text.
 * Right-to-left text is laid out word by word (no bidirectional reordering of whole lines).
 */

const FONT_DIR = 'dejavu-fonts-ttf/ttf';
let fonts: { regular: Buffer; bold: Buffer } | null = null;
function loadFonts() {
  fonts ??= {
    regular: readFileSync(require.resolve(`${FONT_DIR}/DejaVuSans.ttf`)),
    bold: readFileSync(require.resolve(`${FONT_DIR}/DejaVuSans-Bold.ttf`)),
  };
  return fonts;
}

const MARGIN = 50;
const GREY = '#555555';
const REPLACEMENT = '\uFFFD';

interface Glyphs {
  hasGlyphForCodePoint(cp: number): boolean;
}

export async function renderExportPdf(tr: Translator, locale: string, data: SubjectExport): Promise<Buffer> {
  const f = loadFonts();
  const business = data.controller.name;
  const t = (key: string, params?: Record<string, unknown>) =>
    tr.t(locale, key, { business, support: data.controller.contact, policy: data.controller.privacyPolicy, ...params });
  // A value's own label when we have one (a consent source, a request state), else the value itself.
  const label = (key: string, value: string) => tr.t(locale, `${key}.${value}`, { business, defaultValue: value });
  const dateFmt = new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone: 'UTC',
    timeZoneName: 'short',
  });
  const when = (d: Date | string | null | undefined) => (d ? dateFmt.format(new Date(d)) : '—');

  const generatedAt = new Date(data.generatedAt);
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    bufferPages: true,
    lang: locale,
    displayTitle: true,
    info: { Title: t('myData.pdf.title'), Author: business, Subject: 'GDPR Art. 15', CreationDate: generatedAt, ModDate: generatedAt },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.registerFont('body', f.regular);
  doc.registerFont('bold', f.bold);
  doc.font('body');
  const glyphs = (doc as unknown as { _font?: { font?: Glyphs } })._font?.font;
  let unshown = false;
  const show = (s: string | null | undefined) => printable(s ?? '', glyphs, () => (unshown = true));
  const width = doc.page.width - 2 * MARGIN;

  const heading = (text: string) => {
    doc.moveDown(0.8).font('bold').fontSize(13).fillColor('black').text(show(text), MARGIN, undefined, { width });
    doc.moveDown(0.3).font('body').fontSize(10);
  };
  const row = (name: string, value: string | null | undefined) => {
    doc
      .font('bold')
      .fontSize(10)
      .fillColor('black')
      .text(`${show(t('myData.pdf.label', { label: name }))} `, MARGIN, undefined, { continued: true, width });
    doc.font('body').text(show(value || '—'));
  };
  const note = (text: string) => doc.font('body').fontSize(9).fillColor(GREY).text(show(text), MARGIN, undefined, { width }).fillColor('black');

  // Title and what this is.
  doc
    .font('bold')
    .fontSize(18)
    .text(show(t('myData.pdf.title')), { width });
  doc.moveDown(0.4);
  note(t('myData.pdf.intro', { date: when(generatedAt) }));

  // Summary.
  const s = data.subject;
  heading(t('myData.pdf.summary'));
  row(t('myData.pdf.controller'), business);
  row(t('myData.pdf.contact'), data.controller.contact);
  row(t('myData.pdf.policy'), data.controller.privacyPolicy);
  row(t('myData.pdf.number'), s.whatsappNumber);
  row(t('myData.pdf.name'), s.profileName);
  if (s.businessScopedUserId) row(t('myData.pdf.userId'), s.businessScopedUserId);
  row(t('myData.pdf.language'), s.language ? (tr.locales.includes(s.language) ? tr.t(s.language, 'language.name') : s.language) : null);
  row(t('myData.pdf.firstContact'), when(s.firstContactAt));
  row(t('myData.pdf.lastActivity'), when(s.lastActivityAt));
  const since = when(data.consent.since);
  const marketing = data.consent.marketing === 'opted_in' ? 'status.optedIn' : data.consent.marketing === 'opted_out' ? 'status.optedOut' : 'status.none';
  doc.moveDown(0.3);
  doc
    .font('body')
    .fontSize(10)
    .text(show(t(marketing, { since })), MARGIN, undefined, { width });

  // Consent history.
  heading(t('myData.pdf.consent'));
  if (!data.consent.history.length) note(t('myData.pdf.consentNone'));
  for (const c of data.consent.history) {
    const line = t('myData.pdf.consentLine', { action: label('myData.pdf.consentActions', c.action), source: label('myData.pdf.consentSources', c.source) });
    doc
      .font('bold')
      .fontSize(10)
      .text(`${show(when(c.at))}  `, MARGIN, undefined, { continued: true, width });
    doc.font('body').text(show(c.detail ? `${line} (${c.detail})` : line));
  }

  // Requests.
  heading(t('myData.pdf.requests'));
  if (!data.requests.length) note(t('myData.pdf.requestsNone'));
  for (const q of data.requests) {
    const line = t('myData.pdf.requestLine', {
      type: label('status.types', q.type),
      state: label('status.states', q.state),
      received: when(q.receivedAt),
      due: when(q.dueAt),
    });
    doc
      .font('body')
      .fontSize(10)
      .text(show(q.doneAt ? `${line} ${t('myData.pdf.requestClosed', { at: when(q.doneAt) })}` : line), MARGIN, undefined, { width });
  }

  // Every message, oldest first.
  heading(t('myData.pdf.messages', { total: data.messages.length }));
  note(t('myData.pdf.messagesNote', { days: data.processing.retention.conversationMessagesDays }));
  if (!data.messages.length) note(t('myData.pdf.messagesNone'));
  const from = { you: t('myData.pdf.from.you'), bot: t('myData.pdf.from.bot'), staff: t('myData.pdf.from.staff'), api: t('myData.pdf.from.api') };
  for (const m of data.messages) {
    const who = from[m.direction === 'in' ? 'you' : author(m.by)];
    doc.moveDown(0.4);
    doc
      .font('bold')
      .fontSize(9)
      .fillColor(m.direction === 'in' ? 'black' : GREY)
      .text(`${show(when(m.at))} · ${show(who)}`, MARGIN, undefined, { width });
    // Long texts are cut in the PDF (laying out thousands of 4 KB messages costs seconds of CPU);
    // the JSON beside it holds every text whole.
    const text = m.text && [...m.text].length > PDF_TEXT_MAX ? `${[...m.text].slice(0, PDF_TEXT_MAX).join('')} […]` : m.text;
    doc
      .font('body')
      .fontSize(10)
      .fillColor('black')
      .text(show(text ?? t('myData.pdf.noText', { kind: m.kind })), MARGIN, undefined, { width });
  }

  // What we do with it: the Art. 15 items, the very lines of the chat summary.
  heading(t('myData.pdf.processing'));
  const summary = t('myData.summary', {
    messages: data.messages.length,
    messageDays: data.processing.retention.conversationMessagesDays,
    ledgerYears: Math.round(data.processing.retention.pseudonymousRequestRecordDays / 365),
  });
  for (const line of summary.split('\n').filter((l) => l.startsWith('•'))) doc.font('body').fontSize(10).text(show(line), MARGIN, undefined, { width });
  if (unshown) {
    doc.moveDown(0.8);
    note(t('myData.pdf.unshown', { mark: REPLACEMENT }));
  }

  // Page numbers, in the bottom margin of every page.
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc
      .font('body')
      .fontSize(8)
      .fillColor(GREY)
      .text(show(`${business} · ${t('myData.pdf.page', { page: i + 1, pages: range.count })}`), MARGIN, doc.page.height - MARGIN / 2 - 8, {
        width,
        align: 'center',
        lineBreak: false,
      });
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  return ended;
}

/** Who wrote one of our messages: the bot, a staff member (`staff:<id>`), or another system. */
const author = (by: string | null | undefined) => (by === 'bot' ? 'bot' : String(by ?? '').startsWith('staff') ? 'staff' : 'api');

/** Joiners, variation selectors, tags and skin tones: they change a character's look, not what it says. */
const ignorable = (cp: number) =>
  (cp >= 0x200b && cp <= 0x200f) ||
  (cp >= 0x2060 && cp <= 0x2064) ||
  (cp >= 0xfe00 && cp <= 0xfe0f) ||
  (cp >= 0xe0000 && cp <= 0xe0fff) ||
  (cp >= 0x1f3fb && cp <= 0x1f3ff);
const control = (cp: number) => cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Text the font can draw: composed (NFC), line breaks kept, other control characters dropped, and
 * each visible character the font has no glyph for shown as one � (an emoji sequence is one).
 */
export function printable(text: string, font: Glyphs | undefined, onReplaced?: () => void): string {
  let clean = '';
  for (const c of text.normalize('NFC').replace(/\r\n?|[\u2028\u2029]/g, '\n')) {
    if (c === '\t') clean += '    ';
    else if (c === '\n' || !control(c.codePointAt(0)!)) clean += c;
  }
  if (!font) return clean;
  let drawable = true;
  for (const c of clean) {
    if (c !== '\n' && !font.hasGlyphForCodePoint(c.codePointAt(0)!)) {
      drawable = false;
      break;
    }
  }
  if (drawable) return clean; // the usual case, without segmenting
  let out = '';
  for (const { segment } of graphemes.segment(clean)) {
    const cps = [...segment];
    if (cps.every((c) => c === '\n' || font.hasGlyphForCodePoint(c.codePointAt(0)!))) {
      out += segment;
      continue;
    }
    // Joiners, variation selectors and skin tones the font lacks are dropped when the rest is drawn.
    const visible = cps.filter((c) => !ignorable(c.codePointAt(0)!));
    if (visible.length && visible.every((c) => font.hasGlyphForCodePoint(c.codePointAt(0)!))) {
      out += visible.join('');
    } else {
      out += REPLACEMENT;
      onReplaced?.();
    }
  }
  return out;
}
