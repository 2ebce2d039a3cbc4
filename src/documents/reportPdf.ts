import type { AuditReport } from '../rights/auditReport';
import { MARGIN, openPdf, type Pdf } from './pdfDocument';

/**
 * The audit report as a PDF to print or hand over (accountability, GDPR Art. 5(2)): the same
 * figures as the JSON and CSV, from the same AuditReport, on the pages and with the font of the
 * MY DATA export (documents/pdfDocument.ts). In English, like the staff console that offers it;
 * pseudonymous like the report itself: counts and times, no person.
 */
export async function renderAuditReportPdf(rep: AuditReport, business: string): Promise<Buffer> {
  const day = (iso: string) => iso.slice(0, 10);
  const period = `${day(rep.period.from)} to ${day(rep.period.to)} (UTC days, the second excluded)`;
  const generatedAt = new Date(rep.generatedAt);
  const pdf = openPdf({
    lang: 'en',
    info: { Title: `Privacy rights audit report, ${period}`, Author: business, Subject: 'GDPR Art. 5(2)', CreationDate: generatedAt, ModDate: generatedAt },
  });
  const { note, heading, row } = pdf;

  pdf.title('Privacy rights audit report');
  // A chain that does not verify is what an auditor must see first, not on the last page.
  const chains = [
    ['rights ledger', rep.chains.ledger],
    ['staff audit log', rep.chains.audit],
  ] as const;
  for (const [label, v] of chains) {
    if (v && !v.ok) {
      pdf.doc
        .font('bold')
        .fontSize(11)
        .fillColor('#b00020')
        .text(
          pdf.show(`Warning: the ${label} does not verify: broken at entry #${v.firstBroken?.seq ?? '?'} (${v.firstBroken?.reason ?? 'unknown'}).`),
          MARGIN,
          undefined,
          {
            width: pdf.width,
          },
        )
        .fillColor('black')
        .font('body');
      pdf.doc.moveDown(0.3);
    }
  }
  row('Controller:', business);
  row('Period:', period);
  row('Generated:', when(rep.generatedAt));
  note('Requests received in the period, however they stand now. Pseudonymous throughout: counts and times, no person.');

  heading(`Requests: ${rep.requests.total}`);
  row('By right:', tallyLine(rep.requests.byType, RIGHTS));
  row('By channel:', tallyLine(rep.requests.byChannel, CHANNELS));
  row('By state:', tallyLine(rep.requests.byState, STATES));
  if (rep.requests.rows.length) {
    table(
      pdf,
      ['Right', 'Channel', 'State', 'Count'],
      rep.requests.rows.map((r) => [name(RIGHTS, r.type), name(CHANNELS, r.channel), name(STATES, r.state), String(r.count)]),
    );
  }

  heading('Time to fulfil, against the deadline');
  if (!rep.fulfilment.length) note('No request received in the period is done yet.');
  else {
    table(
      pdf,
      ['Right', 'Regime', 'Done', 'Median', '95th percentile', 'Within deadline', 'Late'],
      rep.fulfilment.map((f) => [
        name(RIGHTS, f.type),
        f.regime,
        String(f.done),
        hours(f.medianHours),
        hours(f.p95Hours),
        String(f.withinDeadline),
        String(f.late),
      ]),
    );
  }

  heading('Overdue and extended');
  row('Open past their due date now:', String(rep.overdue.open));
  row('Done after their due date:', String(rep.overdue.closedLate));
  row('Extended:', `${rep.extended} (the bot grants itself no extension)`);

  heading('Opt-out confirmations');
  const c = rep.optOutConfirmations;
  row('Opt-outs in the chat:', String(c.optOuts));
  row('Confirmations found:', `${c.confirmationsFound} (while the outbox keeps them)`);
  row('Delay, median / 95th percentile / longest:', [c.delaySeconds.median, c.delaySeconds.p95, c.delaySeconds.max].map(seconds).join(' / '));

  heading('Tamper-evident chains');
  note(rep.chains.verifiedNow ? 'Verified while this report was made.' : 'As last verified (the console\'s "Verify now", or npm run cli -- verify-ledger).');
  for (const [label, v] of chains) {
    row(
      `${label[0].toUpperCase()}${label.slice(1)}:`,
      !v
        ? 'never verified'
        : v.ok
          ? `intact, ${v.entries} entries, verified ${when(v.at)}`
          : `BROKEN at entry #${v.firstBroken?.seq ?? '?'} (${v.firstBroken?.reason ?? 'unknown'}), verified ${when(v.at)}`,
    );
  }

  return pdf.finish((page, pages) => `${business} · audit report ${day(rep.period.from)} – ${day(rep.period.to)} · page ${page} of ${pages}`);
}

// Human names for the stored codes (requestStore.ts); an unknown code is shown as it is.
const RIGHTS: Record<string, string> = { opt_out: 'Opt-out', opt_in: 'Opt-in', access: 'Access', erasure: 'Erasure' };
const CHANNELS: Record<string, string> = { chat: 'Chat', staff: 'Staff', api: 'Integration API', meta: 'Meta opt-out signal' };
const STATES: Record<string, string> = { open: 'Open', done: 'Done', cancelled: 'Cancelled', expired: 'Expired', closed: 'Closed' };
const name = (names: Record<string, string>, code: string) => names[code] ?? code;
const tallyLine = (counts: Record<string, number>, names: Record<string, string>) =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${name(names, k)} ${n}`)
    .join(' · ') || 'none';

const dateFmt = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const when = (d: Date | string) => `${dateFmt.format(new Date(d))} UTC`;
const hours = (h: number | null) => (h === null ? '—' : h < 1 ? `${Math.round(h * 60)} min` : h < 48 ? `${h.toFixed(1)} h` : `${(h / 24).toFixed(1)} days`);
const seconds = (s: number | null) => (s === null ? '—' : `${s.toFixed(1)} s`);

/** A table across the page: a bold header row, then the rows; pdfkit breaks pages between rows. */
function table(pdf: Pdf, header: string[], rows: string[][]): void {
  pdf.doc.moveDown(0.4);
  pdf.doc.font('body').fontSize(9);
  pdf.doc.table({
    position: { x: MARGIN },
    maxWidth: pdf.width,
    defaultStyle: { border: 0.5, borderColor: '#999999', padding: 3 },
    data: [header.map((text) => ({ text: pdf.show(text), type: 'TH' as const, font: { src: 'bold' } })), ...rows.map((r) => r.map((text) => pdf.show(text)))],
  });
  pdf.doc.font('body').fontSize(10);
}
