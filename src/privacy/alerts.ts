import type { Config } from '../config';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';

/** What a signal needs: the counter, the log and where to post a burst. */
export interface AlertDeps {
  metrics: Metrics;
  log: Logger;
  config: Pick<Config, 'alerts'>;
}

export type SecurityEvent =
  | 'webhook_bad_signature'
  | 'api_bad_token'
  | 'metrics_bad_token'
  | 'staff_login_failed'
  | 'staff_login_throttled'
  | 'staff_locked_out'
  | 'staff_reveal'
  | 'access_rate_limited'
  | 'sandbox_refused';

const WINDOW_MS = 60_000;
const recent = new WeakMap<AlertDeps, Map<SecurityEvent, number[]>>();
const lastAlert = new WeakMap<AlertDeps, Map<SecurityEvent, number>>();

/**
 * Breach signals: every security event is counted (security_events_total) and logged as a
 * structured warning; a burst (ALERT_BURST_THRESHOLD events of one kind within a minute) also
 * posts to ALERT_WEBHOOK_URL when one is configured, at most once a minute per kind.
 */
export function securitySignal(deps: AlertDeps, event: SecurityEvent, fields: Record<string, unknown> = {}): void {
  deps.metrics.securityEvents.inc({ event });
  const log = deps.log.child({ module: 'security' });
  log.warn({ event, ...fields }, 'security event');
  const now = Date.now();
  const byEvent = recent.get(deps) ?? new Map<SecurityEvent, number[]>();
  recent.set(deps, byEvent);
  const times = (byEvent.get(event) ?? []).filter((t) => now - t < WINDOW_MS);
  times.push(now);
  byEvent.set(event, times);
  const { alertWebhookUrl, alertBurstThreshold } = deps.config.alerts;
  if (times.length < alertBurstThreshold) return;
  const alerted = lastAlert.get(deps) ?? new Map<SecurityEvent, number>();
  lastAlert.set(deps, alerted);
  if (now - (alerted.get(event) ?? 0) < WINDOW_MS) return;
  alerted.set(event, now);
  log.error({ event, count: times.length, windowSeconds: WINDOW_MS / 1000 }, 'security burst');
  if (!alertWebhookUrl) return;
  void fetch(alertWebhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ service: 'whatsapp-privacy-bot', event, count: times.length, windowSeconds: WINDOW_MS / 1000, at: new Date(now).toISOString() }),
    signal: AbortSignal.timeout(5000),
  }).catch((err) => log.warn({ err: String(err) }, 'alert webhook failed'));
}

export type OpsEvent = 'event_receiver_failing' | 'event_given_up';

const OPS_REPEAT_MS = 15 * 60_000;
const lastOps = new WeakMap<AlertDeps, Map<string, number>>();

/**
 * Something a deployer must fix (a receiver of privacy events keeps failing): logged as an error
 * and posted to ALERT_WEBHOOK_URL when one is configured, at most once per 15 minutes per kind and
 * subject (`fields.receiver`).
 */
export function opsAlert(deps: AlertDeps, event: OpsEvent, fields: Record<string, unknown> = {}): void {
  const log = deps.log.child({ module: 'ops' });
  log.error({ event, ...fields }, 'ops alert');
  const key = `${event}:${String(fields.receiver ?? '')}`;
  const sent = lastOps.get(deps) ?? new Map<string, number>();
  lastOps.set(deps, sent);
  const now = Date.now();
  if (now - (sent.get(key) ?? 0) < OPS_REPEAT_MS) return;
  sent.set(key, now);
  const { alertWebhookUrl } = deps.config.alerts;
  if (!alertWebhookUrl) return;
  void fetch(alertWebhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ service: 'whatsapp-privacy-bot', event, ...fields, at: new Date(now).toISOString() }),
    signal: AbortSignal.timeout(5000),
  }).catch((err) => log.warn({ err: String(err) }, 'alert webhook failed'));
}
