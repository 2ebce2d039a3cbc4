import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fake Graph API on loopback: it records every request and answers like Meta, and can be told to
 * fail (429 with Retry-After, 5xx, Graph error codes, hangs, connection resets, a full outage).
 */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  raw: Buffer;
  at: number;
  /** The message id the fake answered with (it encodes the recipient's number, like Meta's). */
  messageId?: string;
  /** A media upload's multipart form, read like Meta reads it. */
  upload?: RecordedUpload;
}

export interface RecordedUpload {
  messagingProduct: string | null;
  /** The form's `type` field. */
  type: string | null;
  /** The file part's own content type and filename. */
  fileType: string | null;
  filename: string | null;
  bytes: Buffer;
}

/**
 * The media types Meta accepts at upload, as its refusal lists them (Graph error 100, "Param file
 * must be a file with one of the following types: …"); documents are text/plain, PDF, Word, Excel
 * and PowerPoint.
 */
export const META_MEDIA_TYPES = [
  'audio/aac',
  'audio/mp4',
  'audio/mpeg',
  'audio/amr',
  'audio/ogg',
  'audio/opus',
  'application/vnd.ms-powerpoint',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/pdf',
  'text/plain',
  'application/vnd.ms-excel',
  'image/jpeg',
  'image/png',
  'image/webp',
  'video/mp4',
  'video/3gpp',
];
export const META_DOCUMENT_TYPES = META_MEDIA_TYPES.filter((t) => t.startsWith('application/') || t === 'text/plain');

export type Fault = { kind: 'status'; status: number; retryAfter?: number; graphCode?: number; title?: string } | { kind: 'hang' } | { kind: 'reset' };

export class FakeGraph {
  requests: RecordedRequest[] = [];
  private server = http.createServer((req, res) => this.handle(req, res));
  private sockets = new Set<Socket>();
  private faults: Fault[] = [];
  private down = false;
  private seq = 0;
  /** Media uploaded and not deleted yet (what Meta would still hold). */
  media = new Set<string>();
  url = '';

  async start(): Promise<this> {
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** The next requests fail in this order, one fault each. */
  failNext(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** While down, every request is answered 503 (an outage). */
  setDown(down: boolean): void {
    this.down = down;
  }

  /** Message sends that succeeded (what a subscriber would see). */
  delivered(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith('/messages') && (r as RecordedRequest & { ok?: boolean }).ok);
  }

  /** Bodies of delivered messages to one recipient (`to` without '+'). */
  deliveredTo(waId: string): Record<string, any>[] {
    return this.delivered()
      .map((r) => r.body as Record<string, any>)
      .filter((b) => String(b.to).replace(/^\+/, '') === waId);
  }

  reset(): void {
    this.media.clear();
    this.requests = [];
    this.faults = [];
    this.down = false;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body: unknown = null;
      const ct = String(req.headers['content-type'] ?? '');
      if (ct.includes('json')) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          body = null;
        }
      }
      const rec: RecordedRequest & { ok?: boolean } = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, raw, at: Date.now() };
      this.requests.push(rec);
      if (this.down) return this.reply(res, 503, { error: { message: 'Service temporarily unavailable', code: 2, type: 'OAuthException' } });
      const fault = this.faults.shift();
      if (fault?.kind === 'hang') return; // never answers: the client must time out
      if (fault?.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'status') {
        const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
        return this.reply(
          res,
          fault.status,
          {
            error: {
              message: fault.title ?? 'error',
              type: 'OAuthException',
              code: fault.graphCode ?? fault.status,
              error_data: { details: fault.title ?? 'error' },
              fbtrace_id: 'Afake',
            },
          },
          headers,
        );
      }
      if (!/^Bearer .+/.test(String(req.headers.authorization ?? ''))) return this.reply(res, 401, { error: { message: 'no token', code: 190 } });
      rec.ok = true;
      if (req.method === 'DELETE') {
        // DELETE /<version>/<media-id>?phone_number_id=…: Meta answers 404-like errors for unknown ids.
        const mediaId = (req.url ?? '').split('?')[0].split('/').pop() ?? '';
        if (!this.media.delete(mediaId)) return this.reply(res, 404, { error: { message: 'Unsupported delete request', code: 100 } });
        return this.reply(res, 200, { success: true });
      }
      if (req.url?.endsWith('/media')) {
        void this.upload(rec, ct, raw, res);
        return;
      }
      const to = (body as { to?: string } | null)?.to ?? '';
      const digits = String(to).replace(/^\+/, '');
      // Like Meta's: base64 of a structure that holds the recipient's number.
      const inner = Buffer.concat([
        Buffer.from([0x1c, 0x18, digits.length]),
        Buffer.from(digits),
        Buffer.from([0x15, 0x02, 0x00, 0x11, 0x18, 0x12]),
        Buffer.from(randomBytes(9).toString('hex').toUpperCase()),
        Buffer.from([0x00]),
      ]);
      rec.messageId = `wamid.${inner.toString('base64')}`;
      this.reply(res, 200, {
        messaging_product: 'whatsapp',
        contacts: [{ input: to, wa_id: digits }],
        messages: [{ id: rec.messageId }],
      });
    });
  }

  /** Like Meta: the multipart form is read and a file whose type is not on the list is refused. */
  private async upload(rec: RecordedRequest & { ok?: boolean }, contentType: string, raw: Buffer, res: http.ServerResponse): Promise<void> {
    let form: FormData | null = null;
    try {
      form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
    } catch {
      form = null;
    }
    const file = form?.get('file');
    const field = (name: string) => (typeof form?.get(name) === 'string' ? (form.get(name) as string) : null);
    rec.upload = {
      messagingProduct: field('messaging_product'),
      type: field('type'),
      fileType: file instanceof Blob ? file.type : null,
      filename: file instanceof File ? file.name : null,
      bytes: file instanceof Blob ? Buffer.from(await file.arrayBuffer()) : Buffer.alloc(0),
    };
    const { type, fileType, messagingProduct } = rec.upload;
    if (messagingProduct !== 'whatsapp' || !type || !fileType || !META_MEDIA_TYPES.includes(type) || !META_MEDIA_TYPES.includes(fileType)) {
      rec.ok = false;
      const message = `(#100) Param file must be a file with one of the following types: ${META_MEDIA_TYPES.join(', ')}. Received file of type '${fileType ?? type ?? ''}'.`;
      return this.reply(res, 400, { error: { message, type: 'OAuthException', code: 100, fbtrace_id: 'Afake' } });
    }
    const id = String(1_000_000_000_000_000 + ++this.seq);
    this.media.add(id);
    this.reply(res, 200, { id });
  }

  /** Uploads Meta accepted, in order. */
  uploads(): RecordedUpload[] {
    return this.requests.filter((r) => r.upload && (r as RecordedRequest & { ok?: boolean }).ok).map((r) => r.upload!);
  }

  private reply(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }
}
