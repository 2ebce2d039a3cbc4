// The conversation list on the left: newest first, numbers masked by the server, filtered (needs a
// human, open requests, consent) and searched by name on the server.
import { api } from './api.js';
import { $, badge, consentBadge, el, requestBadge, toast } from './dom.js';
import { fmtDateTime, fmtStamp, plural } from './format.js';
import { state } from './state.js';

function query() {
  const q = new URLSearchParams();
  const show = $('conv-show').value;
  if (show === 'needsHuman' || show === 'openRequests') q.set(show, '1');
  else if (show) q.set('consent', show);
  const search = $('conv-search').value.trim();
  if (search) q.set('q', search);
  return q.toString();
}

let asked = 0;
export async function refreshList() {
  if (!state.me) return;
  const mine = ++asked;
  try {
    const q = query();
    const { data } = await api('GET', `/staff/api/conversations${q ? `?${q}` : ''}`);
    if (mine !== asked) return; // a newer search answered first
    state.conversations = data.conversations;
    state.filtered = Boolean(q);
    renderList();
  } catch (x) {
    if (x.status !== 401) toast(`Could not load conversations: ${x.message}`, 'error');
  }
}

function renderList() {
  const list = $('conv-list');
  const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.id : null;
  const items = state.conversations.map((c) => {
    const badges = el('span', { class: 'badges' });
    if (c.needsHumanAt) badges.append(badge('Needs a human', 'urgent', `Wrote something only a person can answer, last at ${fmtDateTime(c.needsHumanAt)}`));
    badges.append(consentBadge(c.consent));
    for (const r of c.openRequests) badges.append(requestBadge(r));
    if (c.unanswered && !c.needsHumanAt) badges.append(badge('Unanswered', 'warn', 'The person wrote last and nobody answered yet'));
    if (c.paused) badges.append(badge('Bot paused', 'outline', 'The bot does not answer in this conversation'));
    const label = c.name || c.number;
    const btn = el(
      'button',
      { type: 'button', class: 'conv-item', dataset: { id: c.id }, 'aria-current': c.id === state.openId ? 'true' : null },
      el('span', { class: 'conv-name', text: label }),
      el('span', { class: 'conv-time' }, el('time', { datetime: c.lastActivityAt, text: fmtStamp(c.lastActivityAt), title: fmtDateTime(c.lastActivityAt) })),
      el('span', { class: 'conv-number mono', text: c.name ? c.number : ' ' }),
      badges,
    );
    btn.addEventListener('click', () => {
      window.location.hash = `#/conversations/${encodeURIComponent(c.id)}`;
    });
    return el('li', {}, btn);
  });
  list.replaceChildren(...items);
  $('conv-empty').hidden = items.length > 0 || state.filtered;
  $('conv-none').hidden = items.length > 0 || !state.filtered;
  $('conv-count').textContent = items.length ? `${plural(items.length, 'conversation')} shown` : '';
  // The list is rebuilt on every live update: keep the keyboard where it was.
  if (focusedId) {
    const again = list.querySelector(`button[data-id="${CSS.escape(focusedId)}"]`);
    if (again) again.focus();
  }
}

export function bindConversations() {
  // Arrow keys move between conversations (Tab and Enter work as for any button).
  $('conv-list').addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const buttons = [...$('conv-list').querySelectorAll('button.conv-item')];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    e.preventDefault();
    const next = buttons[Math.max(0, Math.min(buttons.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))];
    next.focus();
  });
  let typing;
  $('conv-search').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(refreshList, 250);
  });
  $('conv-show').addEventListener('change', () => refreshList());
  $('conv-filters').addEventListener('submit', (e) => {
    e.preventDefault();
    refreshList();
  });
}
