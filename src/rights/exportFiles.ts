/**
 * The two files of a MY DATA export, as stored and as sent. Each is one `exports` document (its
 * own id, its content sealed at its place in `contentEnc`, the same subscriberId and expiry), so the
 * 7-day expiry, the erasure (by subscriberId) and key rotation treat both alike.
 *
 * Both are sent with a type on the WhatsApp Cloud API's list of document types (text/plain .txt, PDF,
 * Word, Excel, PowerPoint: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types);
 * anything else is refused at upload.
 * - pdf: what a person reads (Art. 15), application/pdf, `my-data-YYYY-MM-DD.pdf`.
 * - json: the machine-readable copy (Art. 20). JSON is not on the list, so it travels as text/plain
 *   named `my-data-YYYY-MM-DD.json.txt`: Meta pairs text/plain with `.txt` and the WhatsApp client
 *   picks its icon and viewer by the extension, so every phone opens it as text, while `.json`
 *   in the name still tells a person (or the service they move to) what the content is.
 */
export type ExportFormat = 'pdf' | 'json';

export const EXPORT_FILES: Record<ExportFormat, { mime: 'application/pdf' | 'text/plain'; suffix: string }> = {
  pdf: { mime: 'application/pdf', suffix: '.pdf' },
  json: { mime: 'text/plain', suffix: '.json.txt' },
};

/** The filename a person sees (and the sandbox serves): the export's date, the format's suffix. */
export function exportFilename(format: ExportFormat, createdAt: Date): string {
  return `my-data-${new Date(createdAt).toISOString().slice(0, 10)}${EXPORT_FILES[format].suffix}`;
}

// Sealing takes text: a PDF is kept as a data URL, which also says what it is. The JSON is kept as
// is (exports made before the PDF existed are JSON too).
const PDF_PREFIX = 'data:application/pdf;base64,';

/** The text to seal in `contentEnc` for one file. */
export function exportContent(format: ExportFormat, content: Buffer | string): string {
  if (format === 'pdf') return PDF_PREFIX + Buffer.from(content).toString('base64');
  return Buffer.isBuffer(content) ? content.toString('utf8') : content;
}

export interface ExportFile {
  format: ExportFormat;
  mime: 'application/pdf' | 'text/plain';
  bytes: Buffer;
}

/** One stored file, from the opened `contentEnc`. */
export function openExportContent(text: string): ExportFile {
  if (text.startsWith(PDF_PREFIX)) return { format: 'pdf', mime: EXPORT_FILES.pdf.mime, bytes: Buffer.from(text.slice(PDF_PREFIX.length), 'base64') };
  return { format: 'json', mime: EXPORT_FILES.json.mime, bytes: Buffer.from(text, 'utf8') };
}
