import type { Config } from '../config';

/**
 * The Graph API calls we make: send a message, upload a media file. The request bodies follow
 * Meta's Cloud API reference (whatsapp-api-js types describe the same shapes); the transport is
 * ours because the outbox needs what that library hides: the HTTP status, Retry-After, a timeout
 * per call, and a classification of every failure (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
 */
export type SendResult =
  { kind: 'sent'; graphId: string } | { kind: 'retry'; code: number; title: string; retryAfterMs?: number } | { kind: 'failed'; code: number; title: string };

/**
 * Meta's error for a marketing message to someone who stopped marketing messages in WhatsApp itself.
 * It is that person's own opt-out, recorded as one (rights/marketingPreference.ts) wherever it shows:
 * on a send (outbox/worker.ts) or in a failed status (outbox/handleStatus.ts).
 */
export const MARKETING_STOPPED = 131050;

/** Whether a failure's error code (a number, or a string in a status webhook) is MARKETING_STOPPED. */
export function isMarketingStop(code: unknown): boolean {
  return Number(code) === MARKETING_STOPPED;
}

/** Meta error codes that mean "slow down / try again" (throughput, pair rate, spam rate, temporary). */
const THROTTLED = new Set([4, 80007, 130429, 131056, 131048, 1, 2, 131000, 131016]);

export type Failure = Exclude<SendResult, { kind: 'sent' }>;

/**
 * Every call names the business number it acts for (`from`, a phone_number_id): one deployment
 * may answer for several numbers, and a reply goes out from the number the person wrote to.
 */
export interface GraphClient {
  sendMessage(from: string, to: { phone?: string; bsuid?: string }, body: Record<string, unknown>, trackingId: string): Promise<SendResult>;
  uploadMedia(from: string, content: Buffer, mime: string, filename: string): Promise<{ kind: 'uploaded'; mediaId: string } | Failure>;
  /** Deletes an uploaded media file; a media id Meta no longer knows counts as deleted. */
  deleteMedia(mediaId: string, from: string): Promise<{ kind: 'deleted' } | Failure>;
}

/**
 * The title kept for a failure: our own words for the codes we know, never Meta's text (an error's
 * details can quote the recipient's number).
 */
export function failureTitle(code: number): string {
  return KNOWN_TITLES[code] ?? (code ? `Graph error ${code}` : 'network or unreadable response');
}
const KNOWN_TITLES: Record<number, string> = {
  131047: 'outside the 24-hour window',
  [MARKETING_STOPPED]: 'the person stopped marketing messages in WhatsApp',
  131026: 'message undeliverable',
  131051: 'unsupported message type',
  131052: 'media download error',
  131053: 'media upload error',
  130429: 'throughput limit reached',
  131056: 'pair rate limit reached',
  131048: 'spam rate limit reached',
  131000: 'something went wrong at Meta',
  131008: 'required parameter missing',
  131009: 'parameter value invalid',
  132000: 'template parameter count mismatch',
  132001: 'template does not exist',
  133010: 'phone number not registered',
  190: 'access token expired or invalid',
  100: 'invalid parameter',
  10: 'permission denied',
  80007: 'rate limit reached',
  4: 'too many calls',
};

/** Graph responses are JSON whose shape depends on success or error; read defensively below. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type GraphJson = any;

export function createGraphClient(config: Config, fetchImpl: typeof fetch = fetch): GraphClient {
  const root = `${config.graph.baseUrl}/${config.graph.version}`;
  const base = (from: string) => `${root}/${encodeURIComponent(from)}`;
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
    if ('error' in r) return { kind: 'retry', code: 0, title: r.error === 'timeout' ? 'timeout' : 'network error' };
    if (r.status >= 200 && r.status < 300) return null;
    const code = Number(r.json?.error?.code ?? r.status) || r.status;
    const title = failureTitle(code);
    if (r.status === 429 || r.status >= 500 || THROTTLED.has(code)) return { kind: 'retry', code, title, retryAfterMs: r.retryAfterMs };
    return { kind: 'failed', code, title };
  }

  return {
    async sendMessage(from, to, body, trackingId) {
      const payload = {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        // `to` is the number; `recipient` the business-scoped user id of a username user (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages).
        ...(to.phone ? { to: to.phone } : { recipient: to.bsuid }),
        ...body,
        // Our own opaque id (never Meta's: it encodes the number), echoed back in status webhooks.
        biz_opaque_callback_data: trackingId,
      };
      const r = await call(`${base(from)}/messages`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      });
      const problem = classify(r);
      if (problem) return problem;
      const id = 'json' in r ? r.json?.messages?.[0]?.id : undefined;
      return id ? { kind: 'sent', graphId: String(id) } : { kind: 'retry', code: 0, title: 'no message id in response' };
    },
    async uploadMedia(from, content, mime, filename) {
      const form = new FormData();
      form.append('messaging_product', 'whatsapp');
      form.append('type', mime);
      form.append('file', new Blob([new Uint8Array(content)], { type: mime }), filename);
      const r = await call(`${base(from)}/media`, { method: 'POST', headers: auth, body: form });
      const problem = classify(r);
      if (problem) return problem;
      const id = 'json' in r ? r.json?.id : undefined;
      return id ? { kind: 'uploaded', mediaId: String(id) } : { kind: 'retry', code: 0, title: 'no media id in response' };
    },
    async deleteMedia(mediaId, from) {
      // https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#delete-media
      const r = await call(`${root}/${encodeURIComponent(mediaId)}?phone_number_id=${encodeURIComponent(from)}`, { method: 'DELETE', headers: auth });
      if (!('error' in r) && r.status === 404) return { kind: 'deleted' };
      const problem = classify(r);
      return problem ?? { kind: 'deleted' };
    },
  };
}
