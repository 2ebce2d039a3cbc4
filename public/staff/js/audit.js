// The audit log and the chain verifications (staff audit log and rights ledger). Shown only when /me
// lists the `audit` permission.
import { act, api } from './api.js';
import { $, badge, el, labelCells, toast } from './dom.js';
import { ACTION_LABEL, fmtDateTime } from './format.js';

function verifyCard(node, title, v) {
  node.className = `verify-card ${!v ? 'never' : v.ok ? 'ok' : 'bad'}`;
  const status = !v
    ? badge('Never verified', 'none')
    : v.ok
      ? badge('✓ Intact', 'ok')
      : badge(`✕ Broken at #${v.firstBroken ? v.firstBroken.seq : '?'}`, 'bad');
  const text = !v
    ? 'No verification has run yet.'
    : v.ok
      ? `${v.entries} entr${v.entries === 1 ? 'y' : 'ies'} checked · ${fmtDateTime(v.at)}`
      : `${v.firstBroken ? v.firstBroken.reason : 'chain broken'} · checked ${fmtDateTime(v.at)}`;
  node.replaceChildren(el('h2', {}, el('span', { text: title }), status), el('p', { text }));
}

export async function loadAudit() {
  try {
    const { data } = await api('GET', '/staff/api/audit');
    verifyCard($('verify-audit'), 'Staff audit log', data.verification.audit);
    verifyCard($('verify-ledger'), 'Rights ledger', data.verification.ledger);
    const rows = data.entries.map((e) =>
      el(
        'tr',
        {},
        el('td', { class: 'num', text: String(e.seq) }),
        el('td', { class: 'nowrap', text: fmtDateTime(e.at) }),
        el('td', { text: e.staff || 'system' }),
        el('td', { text: ACTION_LABEL[e.action] || e.action.replace(/_/g, ' ') }),
        el(
          'td',
          {},
          e.conversationId
            ? el('a', { href: `#/conversations/${encodeURIComponent(e.conversationId)}`, text: 'Open conversation' })
            : e.subscriberToken
              ? el('span', { class: 'muted', title: `Pseudonym ${e.subscriberToken}`, text: 'Erased person' })
              : el('span', { class: 'muted', text: '—' }),
        ),
        el('td', { class: 'detail', text: e.detail ? e.detail.replace(/_/g, ' ') : '' }),
      ),
    );
    $('audit-rows').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { class: 'empty-row', colspan: 6, text: 'No entries.' }))]));
    labelCells($('audit-rows'));
  } catch (x) {
    if (x.status !== 401) toast(`Could not load the audit log: ${x.message}`, 'error');
  }
  await loadEvents();
}

const EVENT_STATES = { pending: ['Waiting to retry', 'none'], sending: ['Sending', 'none'], delivered: ['Delivered', 'ok'], failed: ['Given up', 'bad'] };

async function loadEvents() {
  try {
    const { data } = await api('GET', '/staff/api/event-deliveries');
    $('events-receivers').textContent = data.receivers.length
      ? `Receivers: ${data.receivers.map((r) => `${r.host}${r.includesNumber ? ' (with numbers)' : ' (pseudonyms only)'}`).join(', ')}.`
      : 'No receiver is configured (EVENT_WEBHOOK_URLS): no event is sent.';
    const rows = data.deliveries.map((d) => {
      const [label, tone] = EVENT_STATES[d.state] || [d.state, 'none'];
      return el(
        'tr',
        {},
        el('td', { class: 'nowrap', text: fmtDateTime(d.createdAt) }),
        el('td', {}, el('span', { class: 'intent', text: d.type })),
        el('td', { text: d.host || d.receiver }),
        el('td', {}, badge(d.state === 'pending' && d.nextAttemptAt ? `${label} · ${fmtDateTime(d.nextAttemptAt)}` : label, tone)),
        el('td', { class: 'num', text: String(d.attempts) }),
        el('td', { class: 'mono', text: d.lastStatus || '—' }),
        el('td', { class: 'nowrap', text: d.deliveredAt ? fmtDateTime(d.deliveredAt) : '—' }),
      );
    });
    $('event-rows').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { class: 'empty-row', colspan: 7, text: 'No events yet.' }))]));
    labelCells($('event-rows'));
  } catch (x) {
    if (x.status !== 401) toast(`Could not load the event deliveries: ${x.message}`, 'error');
  }
}

const isoDay = (d) => d.toISOString().slice(0, 10);

function reportLinks() {
  const q = `from=${$('report-from').value}&to=${$('report-to').value}`;
  $('report-csv').href = `/staff/api/report?${q}&format=csv`;
  $('report-json').href = `/staff/api/report?${q}&format=json`;
  $('report-pdf').href = `/staff/api/report?${q}&format=pdf`;
}

async function showReport() {
  reportLinks();
  try {
    const { data } = await api('GET', `/staff/api/report?from=${$('report-from').value}&to=${$('report-to').value}`);
    const c = data.optOutConfirmations;
    const chain = (v) => (!v ? 'never verified' : v.ok ? `intact (${v.entries})` : `broken at #${v.firstBroken ? v.firstBroken.seq : '?'}`);
    const rows = [
      [
        'Requests',
        `${data.requests.total} (${
          Object.entries(data.requests.byType)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ') || 'none'
        })`,
      ],
      [
        'By channel',
        Object.entries(data.requests.byChannel)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || '—',
      ],
      ['Open past due / closed late', `${data.overdue.open} / ${data.overdue.closedLate}`],
      ...data.fulfilment.map((f) => [
        `Time to fulfil: ${f.type}`,
        `median ${f.medianHours} h, p95 ${f.p95Hours} h; ${f.withinDeadline} within the deadline, ${f.late} late (${f.regime})`,
      ]),
      [
        'Opt-out confirmations',
        c.optOuts ? `${c.confirmationsFound} of ${c.optOuts} found; median ${c.delaySeconds.median} s, p95 ${c.delaySeconds.p95} s` : 'none',
      ],
      ['Ledger / audit log', `${chain(data.chains.ledger)} / ${chain(data.chains.audit)}`],
    ];
    $('report-summary').replaceChildren(el('dl', {}, ...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })])));
  } catch (x) {
    if (x.status !== 401) toast(`Could not make the report: ${x.message}`, 'error');
  }
}

export function bindAudit() {
  const now = new Date();
  $('report-to').value = isoDay(new Date(now.getTime() + 86_400_000));
  $('report-from').value = isoDay(new Date(now.getTime() - 29 * 86_400_000));
  reportLinks();
  $('report-from').addEventListener('change', reportLinks);
  $('report-to').addEventListener('change', reportLinks);
  $('report-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void showReport();
  });
  $('verify-now').addEventListener('click', () =>
    act('Verification', async () => {
      $('verify-now').disabled = true;
      try {
        const { data } = await api('POST', '/staff/api/audit/verify', {});
        verifyCard($('verify-audit'), 'Staff audit log', data.audit);
        verifyCard($('verify-ledger'), 'Rights ledger', data.ledger);
        toast(
          data.audit.ok && data.ledger.ok ? 'Both chains verified: intact.' : 'Verification found a broken chain.',
          data.audit.ok && data.ledger.ok ? 'info' : 'error',
        );
      } finally {
        $('verify-now').disabled = false;
      }
    }),
  );
}
