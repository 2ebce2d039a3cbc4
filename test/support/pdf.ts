import { spawn } from 'node:child_process';
import path from 'node:path';

export interface PdfText {
  /** The text of each page, lines joined with '\n'. */
  pages: string[];
  /** All pages, whitespace collapsed to single spaces (for `toContain` on phrases). */
  text: string;
  info: Record<string, unknown>;
}

/** The text a reader gets back from a PDF (pdf.js, as browsers use it). */
export function pdfText(bytes: Buffer): Promise<PdfText> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'pdfText.mjs')], { cwd: path.resolve(__dirname, '..', '..'), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`pdf text extraction failed (${code}): ${Buffer.concat(err).toString('utf8')}`));
      const parsed = JSON.parse(Buffer.concat(out).toString('utf8')) as { pages: string[]; info: Record<string, unknown> };
      resolve({ ...parsed, text: parsed.pages.join(' ').replace(/\s+/g, ' ') });
    });
    child.stdin.end(bytes);
  });
}
