import { exportKey } from '../privacy/ids';
import type { Subscriber } from '../store/subscriberStore';
import type { RightsContext } from './context';
import { exportContent, exportFilename, type ExportFormat } from './exportFiles';
import { closeRequest, openRequest } from './ledger';
import { outcome, text, type Outcome } from './outcome';
import { collectSubjectData, type CollectContext } from './subjectExport';
import { identityOf } from './subscribers';

/** MY DATA requests allowed per subscriber per 24 h; more is refused with a friendly reply. */
export const ACCESS_LIMIT_PER_DAY = 3;
const EXPORT_TTL_MS = 7 * 86_400_000;

type Ctx = CollectContext & Pick<RightsContext, 'ledger' | 'exports' | 'keys' | 'signal' | 'renderPdf' | 'policy' | 'announce'>;

/**
 * MY DATA (GDPR Art. 15 and 20): an in-chat summary of the Art. 15 items, then everything held about
 * this person as two documents to the same number only: a PDF in their language to read (Art. 15),
 * then the same data as JSON, machine-readable (Art. 20). Both are made here, from one collection
 * of the data, and stored sealed for 7 days (exportFiles.ts); the outbox uploads them.
 */
export async function exportData(ctx: Ctx, s: Subscriber, r: { requestId: string; channel: string }): Promise<Outcome> {
  const replay = await ctx.requests.exists(r.requestId);
  if (!replay) {
    const since = new Date(ctx.clock.now().getTime() - 86_400_000);
    if ((await ctx.requests.countSince(s.key, 'access', since)) >= ACCESS_LIMIT_PER_DAY) {
      ctx.signal('access_rate_limited', { subscriber: s.key.slice(0, 12) });
      return outcome('access_limited', text('myData.limited'));
    }
  }
  await openRequest(ctx, { id: r.requestId, subscriberToken: s.key, type: 'access', channel: r.channel });
  // The language the keyword was just written in is remembered before this runs: read it back.
  const current = (await ctx.subscribers.byId(s._id)) ?? s;
  const data = await collectSubjectData(ctx, current);
  const ids: Record<ExportFormat, string> = { pdf: exportKey(ctx.keys, `${r.requestId}#pdf`), json: exportKey(ctx.keys, r.requestId) };
  const now = ctx.clock.now();
  const stored = await ctx.exports.storedAmong(Object.values(ids));
  for (const format of ['pdf', 'json'] as const) {
    if (stored.has(ids[format])) continue; // a replay: the first copy stands
    const content = format === 'pdf' ? await ctx.renderPdf(current.locale ?? ctx.policy.defaultLocale, data) : JSON.stringify(data, null, 2);
    await ctx.exports.put(ids[format], s._id, exportContent(format, content), now, new Date(now.getTime() + EXPORT_TTL_MS));
  }
  await closeRequest(ctx, r.requestId, s.key, 'done', 'summary and export delivered', 'access');
  await ctx.announce({
    id: `${r.requestId}:access.served`,
    type: 'access.served',
    subjectToken: s.key,
    identity: identityOf(ctx, current),
    at: now,
    data: { channel: r.channel, requestId: r.requestId, formats: 'pdf,json' },
  });
  return outcome(
    'access_done',
    text('myData.summary', {
      messages: data.messages.length,
      messageDays: ctx.policy.retention.messagesDays,
      ledgerYears: Math.round(ctx.policy.retention.ledgerDays / 365),
    }),
    { kind: 'document', exportId: ids.pdf, captionKey: 'myData.documentPdf', filename: exportFilename('pdf', now) },
    { kind: 'document', exportId: ids.json, captionKey: 'myData.document', filename: exportFilename('json', now) },
  );
}
