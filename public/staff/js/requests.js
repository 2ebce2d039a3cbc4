// The rights-request ledger, with filters, oldest due first (the server sorts).
import { api } from './api.js';
import { $, badge, el, toast } from './dom.js';
import { STATE_CLS, TYPE_LABEL, daysText, fmtDate, fmtDateTime, urgent } from './format.js';

export async function loadRequests() {
  const q = new URLSearchParams();
  if ($('req-type').value) q.set('type', $('req-type').value);
  if ($('req-state').value) q.set('state', $('req-state').value);
  if ($('req-overdue').checked) q.set('overdue', '1');
  try {
    const { data } = await api('GET', `/staff/api/requests${q.toString() ? `?${q}` : ''}`);
    const rows = data.requests.map((r) =>
      el(
        'tr',
        {},
        el('td', { class: 'nowrap' }, el('strong', { text: TYPE_LABEL[r.type] || r.type })),
        el('td', { text: r.channel }),
        el('td', { class: 'nowrap', text: fmtDateTime(r.receivedAt) }),
        el('td', { class: 'nowrap', text: fmtDate(r.dueAt) }),
        el(
          'td',
          { class: 'nowrap' },
          r.state === 'open' ? badge(daysText(r.daysLeft), urgent(r.daysLeft) ? 'urgent' : 'info') : el('span', { class: 'muted', text: '—' }),
        ),
        el('td', {}, badge(r.state, STATE_CLS[r.state] || 'none'), r.outcome ? el('span', { class: 'muted small', text: ` ${r.outcome}` }) : null),
        el('td', { text: r.regime }),
        el(
          'td',
          { class: 'nowrap' },
          r.conversationId
            ? el('a', { href: `#/conversations/${encodeURIComponent(r.conversationId)}`, text: 'Open conversation' })
            : el('span', { class: 'muted', text: 'erased' }),
        ),
      ),
    );
    $('req-rows').replaceChildren(
      ...(rows.length ? rows : [el('tr', {}, el('td', { class: 'empty-row', colspan: 8, text: 'No requests match these filters.' }))]),
    );
    $('req-count').textContent = `${rows.length} request${rows.length === 1 ? '' : 's'}`;
  } catch (x) {
    if (x.status !== 401) toast(`Could not load requests: ${x.message}`, 'error');
  }
}

export function bindRequests() {
  $('req-filters').addEventListener('submit', (e) => {
    e.preventDefault();
    loadRequests();
  });
  for (const id of ['req-type', 'req-state', 'req-overdue']) $(id).addEventListener('change', () => loadRequests());
}
