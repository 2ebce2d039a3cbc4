import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per app instance, so tests can run several apps in one process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    webhookDeliveries: new Counter({
      name: 'webhook_deliveries_total',
      help: 'POST /webhook deliveries by outcome (stored, duplicate, bad_signature, bad_request, too_large, db_unavailable)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    webhookItems: new Counter({
      name: 'webhook_items_total',
      help: 'Items in accepted deliveries by field and type',
      labelNames: ['field', 'type'],
      registers: [registry],
    }),
    webhookKeptAside: new Counter({
      name: 'webhook_items_kept_aside_total',
      help: 'Items stored but not acted on, by reason (invalid, unknown_field, foreign_number, stale)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    webhookAckSeconds: new Histogram({
      name: 'webhook_ack_seconds',
      help: 'Time from receiving a delivery to answering it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    inboxBacklog: new Gauge({ name: 'inbox_backlog', help: 'Inbox items not yet processed', registers: [registry] }),
    inboxProcessed: new Counter({
      name: 'inbox_processed_total',
      help: 'Inbox items processed by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    outboxBacklog: new Gauge({ name: 'outbox_backlog', help: 'Outbound messages waiting to be sent', registers: [registry] }),
    sends: new Counter({
      name: 'graph_sends_total',
      help: 'Graph API send attempts by outcome and error code',
      labelNames: ['outcome', 'code'],
      registers: [registry],
    }),
    eventDeliveries: new Counter({
      name: 'event_deliveries_total',
      help: 'Privacy event posts to receivers by outcome (delivered, retry, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    eventBacklog: new Gauge({ name: 'event_backlog', help: 'Privacy events not yet acknowledged by their receiver', registers: [registry] }),
    sendRetries: new Counter({ name: 'graph_send_retries_total', help: 'Send attempts scheduled for retry', registers: [registry] }),
    sendSeconds: new Histogram({
      name: 'graph_send_seconds',
      help: 'Graph API send latency',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    gateRefusals: new Counter({
      name: 'consent_gate_refusals_total',
      help: 'Sends refused by the consent gate',
      labelNames: ['reason'],
      registers: [registry],
    }),
    securityEvents: new Counter({
      name: 'security_events_total',
      help: 'Breach signals: signature failures, login failures, reveals, rate limits',
      labelNames: ['event'],
      registers: [registry],
    }),
    logLinesDropped: new Counter({
      name: 'log_lines_dropped_total',
      help: 'Log lines dropped because stdout was not read fast enough (a stalled log shipper); logging never blocks',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
