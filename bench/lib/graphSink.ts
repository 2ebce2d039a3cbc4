import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A fake Graph API on loopback for measurements: answers sends and uploads like Meta and records,
 * for each message send, the recipient, the text and the arrival time (performance.now() of this
 * process, the same clock the load generator uses). Lighter than test/support/fakeGraph.ts (which
 * keeps raw bodies and headers for assertions).
 */
export interface Arrival {
  to: string;
  text: string;
  type: string;
  at: number;
  wallAt: number;
}

export class GraphSink {
  arrivals: Arrival[] = [];
  uploads = 0;
  unauthorized = 0;
  url = '';
  private seq = 0;
  private sockets = new Set<Socket>();
  private listeners: ((a: Arrival) => void)[] = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const wallAt = Date.now();
      if (!/^Bearer .+/.test(String(req.headers.authorization ?? ''))) {
        this.unauthorized += 1;
        return reply(res, 401, { error: { message: 'no token', code: 190 } });
      }
      if (req.url?.endsWith('/media')) {
        this.uploads += 1;
        return reply(res, 200, { id: `media-${++this.seq}` });
      }
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(res, 400, { error: { message: 'bad json', code: 100 } });
      }
      const to = String(body.to ?? body.recipient ?? '').replace(/^\+/, '');
      const type = String(body.type ?? '');
      const text = String(
        (body.text as { body?: string } | undefined)?.body ?? (body.interactive as { body?: { text?: string } } | undefined)?.body?.text ?? '',
      );
      const a = { to, text, type, at, wallAt };
      this.arrivals.push(a);
      for (const l of this.listeners) l(a);
      reply(res, 200, {
        messaging_product: 'whatsapp',
        contacts: [{ input: to, wa_id: to }],
        messages: [{ id: `wamid.bench${++this.seq}${randomBytes(3).toString('hex')}` }],
      });
    });
  });

  async start(): Promise<this> {
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  onArrival(l: (a: Arrival) => void): void {
    this.listeners.push(l);
  }

  reset(): void {
    this.arrivals = [];
    this.uploads = 0;
    this.unauthorized = 0;
    this.listeners = [];
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
