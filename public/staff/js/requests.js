// The rights requests, soonest due first (the server sorts), opening on the open ones: whose each
// is, how long is left, and a way to close one with a reason.
import { api } from './api.js';
import { $, badge, el, labelCells, toast } from './dom.js';
import { CHANNEL_LABEL, STATE_CLS, STATE_LABEL, TYPE_LABEL, daysText, fmtDate, fmtDateTime, plural, urgent } from './format.js';
import { can } from './state.js';

let closing = null; // the request the close dialog is for

export async function loadRequests() {
  const q = new URLSearchParams();
  if ($('req-type').value) q.set('type', $('req-type').value);
  if ($('req-state').value) q.set('state', $('req-state').value);
  if ($('req-overdue').checked) q.set('overdue', '1');
  try {
    const { data } = await api('GET', `/staff/api/requests${q.toString() ? `?${q}` : ''}`);
    // The Actions column is there only for those who may act (a viewer reads).
    const canClose = can('close_request');
    $('req-actions-col').hidden = !canClose;
    const rows = data.requests.map((r) =>
      el(
        'tr',
        {},
        el(
          'td',
          {},
          r.person
            ? el(
                'span',
                { class: 'person-cell' },
                el('a', { href: `#/conversations/${encodeURIComponent(r.conversationId)}`, text: r.person.name || 'No profile name' }),
                el('span', { class: 'mono', text: r.person.number }),
              )
            : el('span', { class: 'muted', text: 'Erased' }),
        ),
        el('td', { class: 'nowrap' }, el('strong', { text: TYPE_LABEL[r.type] || r.type })),
        el('td', { text: CHANNEL_LABEL[r.channel] || r.channel }),
        el('td', { class: 'nowrap', text: fmtDateTime(r.receivedAt) }),
        el('td', { class: 'nowrap', text: fmtDate(r.dueAt) }),
        el(
          'td',
          { class: 'nowrap' },
          r.state === 'open' ? badge(daysText(r.daysLeft), urgent(r.daysLeft) ? 'urgent' : 'info') : el('span', { class: 'muted', text: '—' }),
        ),
        el(
          'td',
          {},
          badge(STATE_LABEL[r.state] || r.state, STATE_CLS[r.state] || 'none'),
          r.outcome ? el('span', { class: 'muted small', text: ` ${r.outcome}` }) : null,
        ),
        el('td', { text: r.regime }),
        canClose &&
          el(
            'td',
            { class: 'nowrap' },
            r.state === 'open'
              ? el('button', {
                  type: 'button',
                  class: 'btn small',
                  dataset: { close: r.id },
                  'aria-label': `Close the ${TYPE_LABEL[r.type] || r.type} request of ${r.person?.name || 'this person'}`,
                  text: 'Close…',
                })
              : null,
          ),
      ),
    );
    $('req-rows').replaceChildren(
      ...(rows.length ? rows : [el('tr', {}, el('td', { class: 'empty-row', colspan: canClose ? 9 : 8, text: 'No requests match these filters.' }))]),
    );
    labelCells($('req-rows'));
    $('req-count').textContent = plural(rows.length, 'request');
  } catch (x) {
    if (x.status !== 401) toast(`Could not load requests: ${x.message}`, 'error');
  }
}

function askClose(id, opener) {
  closing = { id, opener };
  $('close-reason').value = 'fulfilled_elsewhere';
  $('close-note').value = '';
  $('close-error').hidden = true;
  $('close-dialog').showModal();
  $('close-reason').focus();
}

async function submitClose(e) {
  e.preventDefault();
  if (!closing) return;
  const err = $('close-error');
  try {
    const note = $('close-note').value.trim();
    const { data } = await api('POST', `/staff/api/requests/${encodeURIComponent(closing.id)}/close`, {
      reason: $('close-reason').value,
      ...(note ? { note } : {}),
    });
    $('close-dialog').close();
    toast(`Request closed (${STATE_LABEL[data.state] || data.state}). The reason is in the rights ledger.`);
    await loadRequests();
    $('req-heading').focus();
  } catch (x) {
    if (x.status === 401) return $('close-dialog').close();
    err.textContent = x.message;
    err.hidden = false;
  }
}

export function bindRequests() {
  $('req-filters').addEventListener('submit', (e) => {
    e.preventDefault();
    loadRequests();
  });
  for (const id of ['req-type', 'req-state', 'req-overdue']) $(id).addEventListener('change', () => loadRequests());
  $('req-rows').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-close]');
    if (b) askClose(b.dataset.close, b);
  });
  $('close-cancel').addEventListener('click', () => $('close-dialog').close());
  $('close-form').addEventListener('submit', submitClose);
}
