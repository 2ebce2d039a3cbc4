import path from 'node:path';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { z } from 'zod';
import type { Deps } from '../deps';
import { subscribeLive } from './liveFeed';
import { createStaff, login, logout, sessionFor, updateStaff, view, type StaffView } from './accounts';
import {
  closeRequestAsStaff,
  conversation,
  dismissNeedsHuman,
  eraseOnDocumentedRequest,
  exportSubject,
  listConversations,
  listRequests,
  reply,
  reveal,
  setPaused,
  staffOptOut,
  type ActionOutcome,
} from './conversations';
import { CLOSE_REASONS } from '../rights/ledger';
import { createOptInLink, listOptInLinks } from './optInLinks';
import { ROLES, can, grants, type Action } from './roles';
import { renderAuditReportPdf } from '../documents/reportPdf';
import { auditReport, auditReportCsv, REPORT_MAX_DAYS } from '../rights/auditReport';

const PUBLIC = path.resolve(__dirname, '..', '..', 'public', 'staff');
const COOKIE = 'staff_session';
export const SESSION_RECHECK_MS = 3000;
export const MAX_STREAMS_PER_SESSION = 3;
export const MAX_STREAMS = 200;

type Authed = Request & { staff: StaffView; csrf: string; token: string };

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

const problems = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);

/**
 * The staff console (HTML under /staff) and its JSON API (/staff/api/…). Sessions are httpOnly,
 * SameSite=Strict cookies (Secure in production); every state-changing request also carries the
 * session's CSRF token in `x-csrf-token`. Each action checks the role (staff/roles.ts) and is
 * written to the chained audit log.
 */
export function staffRouter(deps: Deps): Router {
  const router = Router();
  const secure = deps.config.env === 'production';
  router.use('/staff', helmet({ contentSecurityPolicy: { directives: { 'connect-src': ["'self'"], 'img-src': ["'self'", 'data:'] } } }));
  router.get('/staff', (_req, res) => res.sendFile(path.join(PUBLIC, 'index.html')));
  router.use('/staff/static', express.static(PUBLIC, { index: false }));
  router.use('/staff/api', express.json({ limit: '64kb' }), (_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });

  router.post('/staff/api/login', async (req, res) => {
    const body = z.object({ email: z.string().min(3).max(200), password: z.string().min(1).max(500) }).safeParse(req.body);
    if (!body.success) return void res.status(400).json({ error: 'invalid body', problems: problems(body.error) });
    const r = await login(deps, body.data.email, body.data.password, req.ip ?? req.socket.remoteAddress ?? 'unknown');
    if (r.kind === 'throttled')
      return void res.status(429).set('retry-after', String(r.retryAfterSeconds)).json({ error: 'too many attempts; try again later' });
    // Unknown, disabled, locked and wrong answer alike (accounts.ts).
    if (r.kind === 'invalid') return void res.status(401).json({ error: 'wrong email or password' });
    res.cookie(COOKIE, r.token, { httpOnly: true, sameSite: 'strict', secure, path: '/staff', maxAge: 12 * 3600_000 });
    res.json({ staff: r.staff, csrf: r.csrf, business: deps.config.business.name, permissions: grants(r.staff.role) });
  });

  const authed = async (req: Request, res: Response, next: NextFunction) => {
    const token = cookie(req, COOKIE);
    const session = await sessionFor(deps, token);
    if (!session) return void res.status(401).json({ error: 'log in first' });
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.get('x-csrf-token') !== session.csrf) {
      return void res.status(403).json({ error: 'missing or wrong CSRF token' });
    }
    Object.assign(req, { staff: session.staff, csrf: session.csrf, token });
    next();
  };
  const allow = (action: Action) => (req: Request, res: Response, next: NextFunction) => {
    if (!can((req as Authed).staff.role, action)) return void res.status(403).json({ error: `your role may not ${action.replace('_', ' ')}` });
    next();
  };
  const send = (res: Response, r: ActionOutcome<object>) => {
    if (r.kind === 'not_found') return void res.status(404).json({ error: 'no such conversation' });
    if (r.kind === 'refused') return void res.status(409).json({ error: r.reason });
    const { kind: _kind, ...rest } = r;
    res.json(rest);
  };
  const staff = (req: Request) => (req as Authed).staff;

  router.use('/staff/api', authed);
  // The console shows only what `permissions` lists and offers the `roles` named here when it
  // manages staff: it keeps no copy of the table in roles.ts.
  router.get('/staff/api/me', (req, res) => {
    const me = staff(req);
    res.json({
      staff: me,
      csrf: (req as Authed).csrf,
      business: deps.config.business.name,
      permissions: grants(me.role),
      roles: ROLES,
      // Named in the console when the 24-hour window is closed: the way messages still reach the person.
      utilityTemplate: deps.config.graph.utilityTemplate ?? null,
    });
  });
  router.post('/staff/api/logout', async (req, res) => {
    await logout(deps, (req as Authed).token, staff(req).id);
    res.clearCookie(COOKIE, { path: '/staff' });
    res.json({ ok: true });
  });

  router.get('/staff/api/conversations', allow('read'), async (req, res) => {
    const q = z
      .object({
        needsHuman: z.enum(['1', 'true']).optional(),
        consent: z.enum(['none', 'opted_in', 'opted_out']).optional(),
        openRequests: z.enum(['1', 'true']).optional(),
        q: z.string().trim().max(100).optional(),
      })
      .safeParse(req.query);
    if (!q.success) return void res.status(400).json({ error: 'invalid filter', problems: problems(q.error) });
    const f = q.data;
    res.json({
      conversations: await listConversations(deps, {
        needsHuman: Boolean(f.needsHuman),
        consent: f.consent,
        openRequests: Boolean(f.openRequests),
        q: f.q || undefined,
      }),
    });
  });
  router.get('/staff/api/conversations/:id', allow('read'), async (req, res) => {
    const c = await conversation(deps, String(req.params.id));
    if (!c) return void res.status(404).json({ error: 'no such conversation' });
    res.json(c);
  });
  router.post('/staff/api/conversations/:id/reveal', allow('reveal'), async (req, res) => {
    const body = z.object({ reason: z.string().max(300), note: z.string().max(300).optional() }).safeParse(req.body);
    if (!body.success) return void res.status(400).json({ error: 'invalid body', problems: problems(body.error) });
    send(res, await reveal(deps, staff(req), String(req.params.id), body.data));
  });
  router.post('/staff/api/conversations/:id/reply', allow('reply'), async (req, res) => {
    const body = z.object({ text: z.string().trim().min(1).max(4096) }).safeParse(req.body);
    if (!body.success) return void res.status(400).json({ error: 'invalid body', problems: problems(body.error) });
    send(res, await reply(deps, staff(req), String(req.params.id), body.data.text));
  });
  router.post('/staff/api/conversations/:id/pause', allow('pause'), async (req, res) =>
    send(res, await setPaused(deps, staff(req), String(req.params.id), true)),
  );
  router.post('/staff/api/conversations/:id/resume', allow('pause'), async (req, res) =>
    send(res, await setPaused(deps, staff(req), String(req.params.id), false)),
  );
  router.post('/staff/api/conversations/:id/opt-out', allow('opt_out'), async (req, res) => {
    const body = z.object({ messageId: z.string().max(300).optional() }).safeParse(req.body ?? {});
    if (!body.success) return void res.status(400).json({ error: 'invalid body', problems: problems(body.error) });
    send(res, await staffOptOut(deps, staff(req), String(req.params.id), body.data.messageId));
  });
  router.post('/staff/api/conversations/:id/dismiss', allow('triage'), async (req, res) => {
    // `seen`: the latest message staff saw marked; one that came after keeps the mark (409).
    const body = z.object({ seen: z.iso.datetime().optional() }).safeParse(req.body ?? {});
    if (!body.success) return void res.status(400).json({ error: 'invalid body', problems: problems(body.error) });
    send(res, await dismissNeedsHuman(deps, staff(req), String(req.params.id), body.data.seen ? new Date(body.data.seen) : undefined));
  });
  router.post('/staff/api/conversations/:id/erase', allow('erase'), async (req, res) => {
    const body = z.object({ note: z.string().max(300) }).safeParse(req.body ?? {});
    if (!body.success) return void res.status(400).json({ error: 'invalid body', problems: problems(body.error) });
    send(res, await eraseOnDocumentedRequest(deps, staff(req), String(req.params.id), body.data));
  });
  router.post('/staff/api/requests/:id/close', allow('close_request'), async (req, res) => {
    const body = z.object({ reason: z.enum(CLOSE_REASONS), note: z.string().max(300).optional() }).safeParse(req.body ?? {});
    if (!body.success) return void res.status(400).json({ error: 'invalid body', problems: problems(body.error) });
    const r = await closeRequestAsStaff(deps, staff(req), String(req.params.id), body.data);
    if (r.kind === 'not_found') return void res.status(404).json({ error: 'no such request' });
    send(res, r);
  });
  router.post('/staff/api/conversations/:id/export', allow('export'), async (req, res) => {
    // The export holds the full number: a reason is asked and it counts as a reveal.
    const body = z.object({ reason: z.string().max(300), note: z.string().max(300).optional() }).safeParse(req.body ?? {});
    if (!body.success) return void res.status(400).json({ error: 'invalid body', problems: problems(body.error) });
    const r = await exportSubject(deps, staff(req), String(req.params.id), body.data);
    if (r.kind !== 'ok') return send(res, r);
    res.attachment(`subject-${String(req.params.id)}.json`).json(r.data);
  });

  router.get('/staff/api/requests', allow('read'), async (req, res) => {
    const q = z
      .object({
        type: z.enum(['opt_out', 'opt_in', 'access', 'erasure']).optional(),
        state: z.enum(['open', 'done', 'cancelled', 'expired']).optional(),
        overdue: z.enum(['1', 'true']).optional(),
      })
      .safeParse(req.query);
    if (!q.success) return void res.status(400).json({ error: 'invalid filter', problems: problems(q.error) });
    res.json({ requests: await listRequests(deps, { type: q.data.type, state: q.data.state, overdue: Boolean(q.data.overdue) }) });
  });

  router.get('/staff/api/audit', allow('audit'), async (_req, res) => {
    const entries = await deps.stores.audit.recent(300);
    const names = await deps.stores.staff.emails();
    // The subject as a link to their conversation while they have one (none once erased).
    const conversations = await deps.stores.subscribers.idsOf([...new Set(entries.map((e) => e.subscriberToken).filter((t): t is string => Boolean(t)))]);
    res.json({
      entries: entries.map((e) => ({
        seq: e.seq,
        at: e.at,
        staff: e.staffId ? (names.get(e.staffId) ?? e.staffId) : null,
        action: e.action,
        subscriberToken: e.subscriberToken ? `${e.subscriberToken.slice(0, 10)}…` : null,
        conversationId: e.subscriberToken ? (conversations.get(e.subscriberToken) ?? null) : null,
        detail: e.detail,
        note: deps.stores.audit.noteOf(e),
      })),
      verification: { audit: await deps.stores.audit.lastVerification(), ledger: await deps.stores.ledger.lastVerification() },
    });
  });
  // The delivery log of privacy events (events/): which receiver was told what, when, and how it
  // answered. No body and no person: those are gone once an event is delivered.
  router.get('/staff/api/event-deliveries', allow('audit'), async (_req, res) => {
    const where = new Map(deps.config.events.receivers.map((r) => [r.id, new URL(r.url).host]));
    const rows = await deps.stores.events.recent(300);
    res.json({
      receivers: deps.config.events.receivers.map((r) => ({ id: r.id, host: new URL(r.url).host, includesNumber: r.includeNumber })),
      deliveries: rows.map((d) => ({
        eventId: d.eventId,
        type: d.type,
        receiver: d.receiver,
        host: where.get(d.receiver) ?? null,
        state: d.state,
        attempts: d.attempts,
        lastStatus: d.lastStatus,
        createdAt: d.createdAt,
        deliveredAt: d.deliveredAt,
        nextAttemptAt: d.state === 'pending' ? d.nextAttemptAt : null,
      })),
    });
  });
  // The audit report (rights/auditReport.ts) for a period, as JSON, CSV or a printable PDF; chains as last verified.
  router.get('/staff/api/report', allow('audit'), async (req, res) => {
    const q = z
      .object({
        from: z.iso.date(),
        to: z.iso.date(),
        format: z.enum(['json', 'csv', 'pdf']).default('json'),
      })
      .safeParse(req.query);
    if (!q.success) return void res.status(400).json({ error: 'from and to as YYYY-MM-DD; format json, csv or pdf', problems: problems(q.error) });
    const from = new Date(`${q.data.from}T00:00:00Z`);
    const to = new Date(`${q.data.to}T00:00:00Z`);
    if (from >= to || to.getTime() - from.getTime() > REPORT_MAX_DAYS * 86_400_000)
      return void res.status(400).json({ error: `from before to, at most ${REPORT_MAX_DAYS} days apart` });
    const rep = await auditReport(deps.rights, { from, to });
    if (q.data.format === 'json') return void res.json(rep);
    if (q.data.format === 'pdf') {
      const pdf = await renderAuditReportPdf(rep, deps.config.business.name);
      return void res.type('application/pdf').attachment(`audit-report-${q.data.from}-${q.data.to}.pdf`).send(pdf);
    }
    res.type('text/csv').attachment(`audit-report-${q.data.from}-${q.data.to}.csv`).send(auditReportCsv(rep));
  });
  router.post(
    '/staff/api/audit/verify',
    allow('audit'),
    async (_req, res) => void res.json({ audit: await deps.stores.audit.verify(), ledger: await deps.stores.ledger.verify() }),
  );

  router.get('/staff/api/staff', allow('manage_staff'), async (_req, res) => void res.json({ staff: (await deps.stores.staff.all()).map(view) }));
  // Opt-in links (staff/optInLinks.ts): admins create them and print their QR codes.
  router.get('/staff/api/opt-in-links', allow('manage_staff'), async (_req, res) => {
    res.json({ links: await listOptInLinks(deps), displayNumberSet: Boolean(deps.config.whatsapp.displayNumber) });
  });
  router.post('/staff/api/opt-in-links', allow('manage_staff'), async (req, res) => {
    const body = z.object({ name: z.string().trim().min(1).max(80), purpose: z.string().trim().min(1).max(300) }).safeParse(req.body);
    if (!body.success) return void res.status(400).json({ error: 'invalid body', problems: problems(body.error) });
    const link = await createOptInLink(deps, staff(req).id, body.data);
    await deps.stores.audit.append({ staffId: staff(req).id, action: 'opt_in_link_created', subscriberToken: null, detail: `${link.code}: ${link.name}` });
    res.status(201).json({ link });
  });
  router.post('/staff/api/staff', allow('manage_staff'), async (req, res) => {
    const body = z.object({ email: z.string(), name: z.string().max(100).default(''), role: z.string(), password: z.string().max(500) }).safeParse(req.body);
    if (!body.success) return void res.status(400).json({ error: 'invalid body', problems: problems(body.error) });
    const r = await createStaff(deps, staff(req).id, body.data);
    if (r.kind === 'invalid') return void res.status(400).json({ error: r.problem });
    if (r.kind === 'exists') return void res.status(409).json({ error: 'an account with this email exists' });
    res.status(201).json({ staff: r.staff });
  });
  router.patch('/staff/api/staff/:email', allow('manage_staff'), async (req, res) => {
    const body = z
      .object({ role: z.string().optional(), disabled: z.boolean().optional(), unlock: z.boolean().optional(), password: z.string().max(500).optional() })
      .safeParse(req.body);
    if (!body.success) return void res.status(400).json({ error: 'invalid body', problems: problems(body.error) });
    const r = await updateStaff(deps, staff(req).id, String(req.params.email), body.data);
    res.status(r === 'updated' ? 200 : r === 'unknown' ? 404 : 400).json({ result: r });
  });

  // Live view: server-sent events from the process's one change feed (liveFeed.ts). The session is
  // checked again every few seconds: a stream ends within SESSION_RECHECK_MS of logout, disable or
  // a role change. Streams are capped per session and in total.
  const streams = { total: 0, bySession: new Map<string, number>() };
  router.get('/staff/api/events', allow('read'), async (req, res) => {
    const { token } = req as Authed;
    const me = staff(req);
    // The client may already be gone (it hung up while the session was checked): count nothing.
    if (req.socket.destroyed || res.destroyed) return;
    const mine = streams.bySession.get(token) ?? 0;
    if (mine >= MAX_STREAMS_PER_SESSION || streams.total >= MAX_STREAMS) return void res.status(429).json({ error: 'too many live views open' });
    streams.total += 1;
    streams.bySession.set(token, mine + 1);
    res.set({ 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    const sendEvent = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    const unsubscribe = subscribeLive(deps, (id) => sendEvent({ type: 'conversation', id }));
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(recheck);
      unsubscribe();
      streams.total -= 1;
      const left = (streams.bySession.get(token) ?? 1) - 1;
      if (left > 0) streams.bySession.set(token, left);
      else streams.bySession.delete(token);
    };
    const recheck = setInterval(async () => {
      const session = await sessionFor(deps, token).catch(() => undefined);
      if (session === undefined) return; // database unreachable: try again next time
      if (!session || session.staff.role !== me.role || !can(session.staff.role, 'read')) {
        sendEvent({ type: 'ended' });
        res.end();
        close();
        return;
      }
      res.write(': keep-alive\n\n');
    }, SESSION_RECHECK_MS);
    recheck.unref();
    // The response's close fires however the stream ends (the request's may already have fired
    // when its body was read).
    res.on('close', close);
    sendEvent({ type: 'hello' });
  });
  return router;
}
