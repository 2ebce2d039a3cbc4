/**
 * HTTP on loopback, no keep-alive (a killed server must not leave a half-dead pooled socket), and
 * the webhook POST the way Meta sends it.
 */
import http from 'node:http';

export interface PostResult {
  status: number; // 0: no HTTP answer (refused, reset, timed out)
  error?: string;
  startedAt: number;
  endedAt: number;
}

export function httpPost(url: string, raw: string | Buffer, headers: Record<string, string>, timeoutMs = 20_000): Promise<PostResult> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number, error?: string) => {
      if (settled) return;
      settled = true;
      resolve({ status, error, startedAt, endedAt: Date.now() });
    };
    const body = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    const req = http.request(url, { method: 'POST', agent: false, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => done(res.statusCode ?? 0));
      res.on('error', (e) => done(0, e.message));
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy(new Error('timeout'));
    });
    req.on('error', (e) => done(0, (e as NodeJS.ErrnoException).code ?? e.message));
    req.end(body);
  });
}

export function httpGet(url: string, timeoutMs = 3000): Promise<PostResult> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, startedAt, endedAt: Date.now() }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, error: e.message, startedAt, endedAt: Date.now() }));
  });
}

export function postSigned(baseUrl: string, raw: string, signature: string, timeoutMs = 20_000): Promise<PostResult> {
  return httpPost(`${baseUrl}/webhook`, raw, { 'content-type': 'application/json', 'x-hub-signature-256': signature }, timeoutMs);
}
