import type { Config } from '../config';

/**
 * The Graph API calls we make: send a message, upload a media file. The request bodies follow
 * Meta's Cloud API reference (whatsapp-api-js types describe the same shapes); the transport is
 * ours because the outbox needs what that library hides: the HTTP status, Retry-After, a timeout
 * per call, and a classification of every failure (research §3).
 */
export type SendResult =
  | { kind: 'sent'; graphId: string }
  | { kind: 'retry'; code: number; title: string; retryAfterMs?: number }
  | { kind: 'failed'; code: number; title: string };

/** Meta error codes that mean "slow down / try again" (throughput, pair rate, spam rate, temporary). */
const THROTTLED = new Set([4, 80007, 130429, 131056, 131048, 1, 2, 131000, 131016]);

export interface GraphClient {
  sendMessage(to: { phone?: string; bsuid?: string }, body: Record<string, unknown>, trackingId: string): Promise<SendResult>;
  uploadMedia(content: Buffer, mime: string, filename: string): Promise<{ kind: 'uploaded'; mediaId: string } | Exclude<SendResult, { kind: 'sent' }>>;
}

/** Graph responses are JSON whose shape depends on success or error; read defensively below. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type GraphJson = any;

export function createGraphClient(config: Config, fetchImpl: typeof fetch = fetch): GraphClient {
  const base = `${config.graph.baseUrl}/${config.graph.version}/${config.whatsapp.phoneNumberId}`;
  const auth = { authorization: `Bearer ${config.whatsapp.accessToken ?? ''}` };

  async function call(url: string, init: RequestInit): Promise<{ status: number; json: GraphJson; retryAfterMs?: number } | { error: string }> {
    try {
      const res = await fetchImpl(url, { ...init, signal: AbortSignal.timeout(config.graph.timeoutMs) });
      const text = await res.text();
      let json: GraphJson = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
      const ra = res.headers.get('retry-after');
      const retryAfterMs = ra && /^\d+(\.\d+)?$/.test(ra) ? Number(ra) * 1000 : ra ? Math.max(0, Date.parse(ra) - Date.now()) || undefined : undefined;
      return { status: res.status, json, retryAfterMs };
    } catch (err) {
      // Timeouts, refused and reset connections: the request may not have arrived; try again.
      return { error: (err as Error).name === 'TimeoutError' ? 'timeout' : `network: ${(err as Error).message}` };
    }
  }

  function classify(r: Awaited<ReturnType<typeof call>>): Exclude<SendResult, { kind: 'sent' }> | null {
    if ('error' in r) return { kind: 'retry', code: 0, title: r.error };
    if (r.status >= 200 && r.status < 300) return null;
    const code = Number(r.json?.error?.code ?? r.status);
    const title = String(r.json?.error?.error_data?.details ?? r.json?.error?.message ?? `HTTP ${r.status}`).slice(0, 200);
    if (r.status === 429 || r.status >= 500 || THROTTLED.has(code)) return { kind: 'retry', code, title, retryAfterMs: r.retryAfterMs };
    return { kind: 'failed', code, title };
  }

  return {
    async sendMessage(to, body, trackingId) {
      const payload = {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        // `to` is the number; `recipient` the business-scoped user id of a username user (research §1.7).
        ...(to.phone ? { to: to.phone } : { recipient: to.bsuid }),
        ...body,
        // Echoed back in status webhooks; also lets anyone downstream spot a duplicate.
        biz_opaque_callback_data: trackingId,
      };
      const r = await call(`${base}/messages`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(payload) });
      const problem = classify(r);
      if (problem) return problem;
      const id = 'json' in r ? r.json?.messages?.[0]?.id : undefined;
      return id ? { kind: 'sent', graphId: String(id) } : { kind: 'retry', code: 0, title: 'no message id in response' };
    },
    async uploadMedia(content, mime, filename) {
      const form = new FormData();
      form.append('messaging_product', 'whatsapp');
      form.append('type', mime);
      form.append('file', new Blob([new Uint8Array(content)], { type: mime }), filename);
      const r = await call(`${base}/media`, { method: 'POST', headers: auth, body: form });
      const problem = classify(r);
      if (problem) return problem;
      const id = 'json' in r ? r.json?.id : undefined;
      return id ? { kind: 'uploaded', mediaId: String(id) } : { kind: 'retry', code: 0, title: 'no media id in response' };
    },
  };
}
