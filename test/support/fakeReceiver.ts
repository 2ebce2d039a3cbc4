import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedEvent {
  headers: http.IncomingHttpHeaders;
  raw: string;
  status: number;
  at: number;
}

/** A system that receives our privacy events, on loopback: it records every post and answers 200, or 503 while down. */
export class FakeReceiver {
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = this.down ? 503 : 200;
      this.received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8'), status, at: Date.now() });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: status === 200 }));
    });
  });
  received: ReceivedEvent[] = [];
  down = false;
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/privacy-events`;
    return this;
  }
  /** What it accepted (answered 200), in the order it accepted them. */
  accepted(): ReceivedEvent[] {
    return this.received.filter((r) => r.status === 200);
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
