import type { Translator } from '../i18n/i18n';
import type { SubjectExport } from '../rights/subjectExport';
import { MARGIN, GREY, REPLACEMENT, openPdf } from './pdfDocument';

/** Characters of one message shown in the PDF; the JSON has them all. */
export const PDF_TEXT_MAX = 1000;

/**
 * The MY DATA export as a PDF a person can read (GDPR Art. 15: an intelligible copy), in their
 * language: a summary, the consent history, the requests and every message with its time and
 * direction, then how the data is used. It is made from the same collected data as the JSON file,
 * at the same moment, so the two never disagree.
 *
 * Rendering happens here, at the edge, like the chat replies (i18n/render.ts): the texts come
 * from locales/<lng>/translation.json through the Translator handed in; nothing here reads the
 * database or knows i18next.
 *
 * The pages, font and drawable text are documents/pdfDocument.ts's; a character the font cannot
 * draw is shown as �, and a closing note then says so, and that the JSON file holds the exact text.
 */

export async function renderExportPdf(tr: Translator, locale: string, data: SubjectExport): Promise<Buffer> {
  const business = data.controller.name;
  const t = (key: string, params?: Record<string, unknown>) =>
    tr.t(locale, key, { business, support: data.controller.contact, policy: data.controller.privacyPolicy, ...params });
  // A value's own label when we have one (a consent source, a request state), else the value itself.
  const label = (key: string, value: string) => tr.t(locale, `${key}.${value}`, { business, defaultValue: value });
  const dateFmt = new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone: 'UTC',
    timeZoneName: 'short',
  });
  const when = (d: Date | string | null | undefined) => (d ? dateFmt.format(new Date(d)) : '—');

  const generatedAt = new Date(data.generatedAt);
  const pdf = openPdf({
    lang: locale,
    info: { Title: t('myData.pdf.title'), Author: business, Subject: 'GDPR Art. 15', CreationDate: generatedAt, ModDate: generatedAt },
  });
  const { doc, show, width, heading, note } = pdf;
  const row = (name: string, value: string | null | undefined) => pdf.row(t('myData.pdf.label', { label: name }), value);

  // Title and what this is.
  pdf.title(t('myData.pdf.title'));
  note(t('myData.pdf.intro', { date: when(generatedAt) }));

  // Summary.
  const s = data.subject;
  heading(t('myData.pdf.summary'));
  row(t('myData.pdf.controller'), business);
  row(t('myData.pdf.contact'), data.controller.contact);
  row(t('myData.pdf.policy'), data.controller.privacyPolicy);
  row(t('myData.pdf.number'), s.whatsappNumber);
  row(t('myData.pdf.name'), s.profileName);
  if (s.businessScopedUserId) row(t('myData.pdf.userId'), s.businessScopedUserId);
  row(t('myData.pdf.language'), s.language ? (tr.locales.includes(s.language) ? tr.t(s.language, 'language.name') : s.language) : null);
  row(t('myData.pdf.firstContact'), when(s.firstContactAt));
  row(t('myData.pdf.lastActivity'), when(s.lastActivityAt));
  const since = when(data.consent.since);
  const marketing = data.consent.marketing === 'opted_in' ? 'status.optedIn' : data.consent.marketing === 'opted_out' ? 'status.optedOut' : 'status.none';
  doc.moveDown(0.3);
  doc
    .font('body')
    .fontSize(10)
    .text(show(t(marketing, { since })), MARGIN, undefined, { width });

  // Consent history.
  heading(t('myData.pdf.consent'));
  if (!data.consent.history.length) note(t('myData.pdf.consentNone'));
  for (const c of data.consent.history) {
    const line = t('myData.pdf.consentLine', { action: label('myData.pdf.consentActions', c.action), source: label('myData.pdf.consentSources', c.source) });
    doc
      .font('bold')
      .fontSize(10)
      .text(`${show(when(c.at))}  `, MARGIN, undefined, { continued: true, width });
    doc.font('body').text(show(c.detail ? `${line} (${c.detail})` : line));
  }

  // Requests.
  heading(t('myData.pdf.requests'));
  if (!data.requests.length) note(t('myData.pdf.requestsNone'));
  for (const q of data.requests) {
    const line = t('myData.pdf.requestLine', {
      type: label('status.types', q.type),
      state: label('status.states', q.state),
      received: when(q.receivedAt),
      due: when(q.dueAt),
    });
    doc
      .font('body')
      .fontSize(10)
      .text(show(q.doneAt ? `${line} ${t('myData.pdf.requestClosed', { at: when(q.doneAt) })}` : line), MARGIN, undefined, { width });
  }

  // Every message, oldest first.
  heading(t('myData.pdf.messages', { total: data.messages.length }));
  note(t('myData.pdf.messagesNote', { days: data.processing.retention.conversationMessagesDays }));
  if (!data.messages.length) note(t('myData.pdf.messagesNone'));
  const from = { you: t('myData.pdf.from.you'), bot: t('myData.pdf.from.bot'), staff: t('myData.pdf.from.staff'), api: t('myData.pdf.from.api') };
  for (const m of data.messages) {
    const who = from[m.direction === 'in' ? 'you' : author(m.by)];
    doc.moveDown(0.4);
    doc
      .font('bold')
      .fontSize(9)
      .fillColor(m.direction === 'in' ? 'black' : GREY)
      .text(`${show(when(m.at))} · ${show(who)}`, MARGIN, undefined, { width });
    // Long texts are cut in the PDF (laying out thousands of 4 KB messages costs seconds of CPU);
    // the JSON beside it holds every text whole.
    const text = m.text && [...m.text].length > PDF_TEXT_MAX ? `${[...m.text].slice(0, PDF_TEXT_MAX).join('')} […]` : m.text;
    doc
      .font('body')
      .fontSize(10)
      .fillColor('black')
      .text(show(text ?? t('myData.pdf.noText', { kind: m.kind })), MARGIN, undefined, { width });
  }

  // What we do with it: the Art. 15 items, the very lines of the chat summary.
  heading(t('myData.pdf.processing'));
  const summary = t('myData.summary', {
    messages: data.messages.length,
    messageDays: data.processing.retention.conversationMessagesDays,
    ledgerYears: Math.round(data.processing.retention.pseudonymousRequestRecordDays / 365),
  });
  for (const line of summary.split('\n').filter((l) => l.startsWith('•'))) doc.font('body').fontSize(10).text(show(line), MARGIN, undefined, { width });
  if (pdf.unshown()) {
    doc.moveDown(0.8);
    note(t('myData.pdf.unshown', { mark: REPLACEMENT }));
  }

  return pdf.finish((page, pages) => `${business} · ${t('myData.pdf.page', { page, pages })}`);
}

/** Who wrote one of our messages: the bot, a staff member (`staff:<id>`), or another system. */
const author = (by: string | null | undefined) => (by === 'bot' ? 'bot' : String(by ?? '').startsWith('staff') ? 'staff' : 'api');
