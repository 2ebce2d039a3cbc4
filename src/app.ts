import express, { type ErrorRequestHandler } from 'express';
import { randomUUID } from 'node:crypto';
import { pinoHttp } from 'pino-http';
import type { Deps } from './deps';
import { safeErr } from './lib/logger';
import { pingDb } from './db/connection';
import { bearerAuth } from './api/auth';
import { apiRouter } from './api/router';
import { securitySignal } from './privacy/alerts';
import { sandboxRouter } from './sandbox/router';
import { staffRouter } from './staff/router';
import { webhookRouter } from './webhook/router';

/** Builds the HTTP app without listening (supertest drives it directly). */
export function createApp(deps: Deps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.trustProxy);
  // Meta's deliveries are the bulk of the traffic: the webhook logs for itself (refusals at warn,
  // failures at error, stored deliveries at debug) instead of through pino-http, whose per-request
  // child logger, listeners and redaction cost more than the delivery's own parsing
  // (docs/benchmarks.md, ingest).
  app.use(webhookRouter(deps, (docs) => deps.bus.emit('inbox', docs)));
  app.use(
    pinoHttp({
      logger: deps.log.child({ module: 'http' }),
      genReqId: (req, res) => {
        const id = (req.headers['x-request-id'] as string) || randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      // Log the route, never the query (the handshake token) or a body.
      serializers: {
        // A path may carry a phone number (/api/v1/sendability/:phone): long digit runs are masked.
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url.split('?')[0].replace(/\+?\d{6,}/g, '[number]'),
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        // pino-http brings its own error serializer; ours logs no message that could quote personal data.
        err: (e: unknown) => safeErr(e),
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
      // Accepted webhook deliveries are the bulk of the traffic and are counted in /metrics: logged
      // at debug only. Failures stay visible.
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const ok = await pingDb(deps.conn);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'database unavailable' });
  });
  // With METRICS_TOKEN set, the scrape must present it (the metrics name security events and backlogs).
  const metricsAuth: express.RequestHandler = deps.config.metricsToken
    ? bearerAuth([deps.config.metricsToken], () => securitySignal(deps, 'metrics_bad_token'))
    : (_req, _res, next) => next();
  app.get('/metrics', metricsAuth, async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  app.use(apiRouter(deps));
  app.use(staffRouter(deps));
  // Sandbox mode is refused in production (config.ts), so the simulator never ships live.
  if (deps.config.sandbox && deps.config.env !== 'production') app.use(sandboxRouter(deps, (docs) => deps.bus.emit('inbox', docs)));
  else app.get('/', (_req, res) => res.redirect('/staff'));

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    const status = typeof err?.status === 'number' && err.status < 500 ? err.status : 500;
    if (status >= 500) {
      const errorId = randomUUID();
      req.log.error({ err, errorId }, 'request failed');
      res.status(500).json({ error: 'internal error', errorId });
      return;
    }
    res.status(status).json({ error: err.expose ? err.message : 'bad request' });
  };
  app.use(onError);
  return app;
}
