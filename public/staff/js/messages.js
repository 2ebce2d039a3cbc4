// The messages of the open thread. Only new messages are appended, so the live region announces only
// what is new.
import { $, el } from './dom.js';
import { INTENT_LABEL, fmtDateTime, fmtDay, fmtTime, toDate } from './format.js';
import { can, state } from './state.js';

function byText(by) {
  if (!by || by === 'subscriber') return null;
  if (by.startsWith('staff:')) return by.slice(6) === state.me?.staff.id ? 'staff (you)' : 'staff';
  return by; // bot | api
}

function messageNode(m) {
  const li = el('li', { class: `msg ${m.direction === 'in' ? 'in' : 'out'}${m.by && m.by.startsWith('staff:') ? ' by-staff' : ''}`, dataset: { id: m.id } });
  const hasText = m.text !== null && m.text !== undefined && m.text !== '';
  li.append(el('div', { class: hasText ? 'msg-text' : 'msg-text nontext', text: hasText ? m.text : `[${m.kind || 'message'}]` }));
  const meta = el('div', { class: 'msg-meta' });
  li.append(meta);
  fillMeta(li, meta, m);
  return li;
}

/**
 * Time, intent or sender and delivery status. An unclear opt-out the bot did not act on gets a
 * "Mark as opt-out" button; actions.js handles its click on #thread (the button's message is the
 * enclosing li's data-id).
 */
function fillMeta(li, meta, m) {
  const parts = [el('time', { datetime: m.at, text: fmtTime(m.at), title: fmtDateTime(m.at) })];
  if (m.direction === 'in') {
    if (m.intent) parts.push(el('span', { class: 'intent', title: 'What the bot understood', text: INTENT_LABEL[m.intent] || m.intent.replace(/_/g, ' ') }));
  } else {
    const by = byText(m.by);
    if (by) parts.push(el('span', { class: 'by', text: by }));
    if (m.status)
      parts.push(
        el('span', {
          class: `status ${m.status}`,
          text: m.status === 'failed' ? '✕ failed' : m.status === 'read' || m.status === 'delivered' ? `✓ ${m.status}` : m.status,
        }),
      );
  }
  meta.replaceChildren(...parts);
  const old = li.querySelector('.msg-action');
  if (old) old.remove();
  if (m.direction === 'in' && m.intent === 'ask_opt_out' && can('opt_out') && state.open && state.open.consent !== 'opted_out') {
    li.append(
      el(
        'div',
        { class: 'msg-action' },
        el('button', { type: 'button', class: 'btn small', text: 'Mark as opt-out', title: 'The bot was not sure; record this message as an opt-out' }),
      ),
    );
  }
}

/**
 * Oldest first. Messages written in the same instant (a bot's answer carries the time of the
 * message it answers) keep the person's message first.
 */
function ordered(messages) {
  return messages
    .map((m, i) => ({ m, i, t: toDate(m.at).getTime() }))
    .sort((a, b) => a.t - b.t || (a.m.direction === 'in' ? 0 : 1) - (b.m.direction === 'in' ? 0 : 1) || a.i - b.i)
    .map((x) => x.m);
}

export function renderMessages(c, first) {
  const thread = $('thread');
  const nearBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
  const list = ordered(c.messages);
  // When appending would break the order (a message vanished to retention or erasure, or one
  // arrived with an earlier time), the thread is rebuilt.
  const shown = [...state.rendered.keys()];
  const firstNew = list.findIndex((m) => !state.rendered.has(m.id));
  const prefix = (firstNew < 0 ? list : list.slice(0, firstNew)).map((m) => m.id);
  const inOrder =
    prefix.length === shown.length &&
    prefix.every((id, i) => id === shown[i]) &&
    list.slice(Math.max(firstNew, 0)).every((m) => !state.rendered.has(m.id) || firstNew < 0);
  const rebuild = first || !inOrder || !list.length;
  if (rebuild) {
    state.rendered.clear();
    thread.replaceChildren();
    // A whole thread appearing at once is not news: the live region announces later additions only.
    thread.setAttribute('aria-live', 'off');
    setTimeout(() => thread.setAttribute('aria-live', 'polite'), 500);
  }
  let lastDay = null;
  for (const li of thread.querySelectorAll('.day-sep')) lastDay = li.dataset.day;
  let added = false;
  for (const m of list) {
    const existing = state.rendered.get(m.id);
    if (existing) {
      fillMeta(existing, existing.querySelector('.msg-meta'), m);
      continue;
    }
    const day = toDate(m.at).toDateString();
    if (day !== lastDay) {
      thread.append(el('li', { class: 'day-sep', dataset: { day }, 'aria-hidden': 'true', text: fmtDay(m.at) }));
      lastDay = day;
    }
    const li = messageNode(m);
    state.rendered.set(m.id, li);
    thread.append(li);
    added = true;
  }
  if (!list.length) thread.append(el('li', { class: 'day-sep', text: 'No messages are kept for this person.' }));
  if (first || (added && nearBottom)) thread.scrollTop = thread.scrollHeight;
}
