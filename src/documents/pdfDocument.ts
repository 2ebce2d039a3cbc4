import { readFileSync } from 'node:fs';
import PDFDocument from 'pdfkit';

/**
 * What our PDFs share (the MY DATA export, documents/exportPdf.ts, and the audit report,
 * documents/reportPdf.ts): A4 pages, the bundled font, text made drawable, headings, labelled
 * rows and notes, and page numbers in the bottom margin.
 *
 * The font is DejaVu Sans (npm `dejavu-fonts-ttf`, bundled, no network): every character of the
 * six languages and most Latin, Greek, Cyrillic, Hebrew and Arabic text. A character it has no
 * glyph for (CJK, most emoji, Indic scripts) is shown as � (one per visible character), so the
 * page neither breaks nor shows empty boxes; `unshown()` then tells the caller, to say so.
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

export const MARGIN = 50;
export const GREY = '#555555';
export const REPLACEMENT = '\uFFFD';

interface Glyphs {
  hasGlyphForCodePoint(cp: number): boolean;
}

export interface Pdf {
  doc: PDFKit.PDFDocument;
  /** The width between the margins. */
  width: number;
  /** Text as the font can draw it. */
  show(s: string | null | undefined): string;
  title(text: string): void;
  heading(text: string): void;
  /** A bold label (already worded, "Number:") and its value on one line. */
  row(label: string, value: string | null | undefined): void;
  note(text: string): void;
  /** Whether some character could not be drawn (shown as REPLACEMENT). */
  unshown(): boolean;
  /** Numbers the pages ("footer(1, 3)" on each) and gives the file. */
  finish(footer: (page: number, pages: number) => string): Promise<Buffer>;
}

export function openPdf(opts: { lang: string; info: PDFKit.DocumentInfo }): Pdf {
  const f = loadFonts();
  const doc = new PDFDocument({ size: 'A4', margin: MARGIN, bufferPages: true, lang: opts.lang, displayTitle: true, info: opts.info });
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
  const note = (text: string) => void doc.font('body').fontSize(9).fillColor(GREY).text(show(text), MARGIN, undefined, { width }).fillColor('black');
  return {
    doc,
    width,
    show,
    title(text) {
      doc.font('bold').fontSize(18).text(show(text), { width });
      doc.moveDown(0.4);
    },
    heading(text) {
      doc.moveDown(0.8).font('bold').fontSize(13).fillColor('black').text(show(text), MARGIN, undefined, { width });
      doc.moveDown(0.3).font('body').fontSize(10);
    },
    row(label, value) {
      doc
        .font('bold')
        .fontSize(10)
        .fillColor('black')
        .text(`${show(label)} `, MARGIN, undefined, { continued: true, width });
      doc.font('body').text(show(value || '—'));
    },
    note,
    unshown: () => unshown,
    finish(footer) {
      const range = doc.bufferedPageRange();
      for (let i = range.start; i < range.start + range.count; i++) {
        doc.switchToPage(i);
        const bottom = doc.page.margins.bottom;
        doc.page.margins.bottom = 0;
        doc
          .font('body')
          .fontSize(8)
          .fillColor(GREY)
          .text(show(footer(i + 1, range.count)), MARGIN, doc.page.height - MARGIN / 2 - 8, { width, align: 'center', lineBreak: false });
        doc.page.margins.bottom = bottom;
      }
      doc.end();
      return ended;
    },
  };
}

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
