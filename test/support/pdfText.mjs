// Reads a PDF from standard input and prints its text as JSON: one string per page, lines joined
// with '\n'. Run as its own process because pdfjs-dist is an ES module (test/support/pdf.ts).
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const pdf = await getDocument({ data: new Uint8Array(Buffer.concat(chunks)), verbosity: 0, isEvalSupported: false, useSystemFonts: false }).promise;
const pages = [];
for (let i = 1; i <= pdf.numPages; i++) {
  const content = await (await pdf.getPage(i)).getTextContent();
  pages.push(content.items.map((it) => ('str' in it ? it.str + (it.hasEOL ? '\n' : '') : '')).join(''));
}
const info = (await pdf.getMetadata()).info;
process.stdout.write(JSON.stringify({ pages, info }));
