// The open conversation: header, the actions the account's permissions allow, the reply box and the
// details panel.
import { api } from './api.js';
import { $, badge, consentBadge, el, toast } from './dom.js';
import { CHANNEL_LABEL, STATE_CLS, STATE_LABEL, TYPE_LABEL, daysText, fmtDate, fmtDateTime, urgent } from './format.js';
import { renderMessages } from './messages.js';
import { can, state } from './state.js';

export async function openConversation(id) {
  state.openId = id;
  state.open = null;
  state.revealed = null;
  state.rendered.clear();
  $('thread').replaceChildren();
  $('reply-text').value = '';
  for (const b of document.querySelectorAll('.conv-item')) {
    if (b.dataset.id === id) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
  // On a phone the thread replaces the list (console.css); everywhere, the keyboard follows.
  $('view-conversations').classList.add('showing-thread');
  closeDetails();
  await loadThread(id, true);
  if (state.openId === id && state.open) $('thread-title').focus();
}

/** Back to the list (a phone's "← Conversations"), with the keyboard on the conversation left. */
export function closeConversation() {
  const id = state.openId;
  $('view-conversations').classList.remove('showing-thread');
  closeDetails();
  const item = id && document.querySelector(`.conv-item[data-id="${CSS.escape(id)}"]`);
  if (item) item.focus();
  else $('conv-heading').focus();
}

// While the drawer is open on a phone, what lies under it takes neither clicks nor the keyboard.
const UNDER_DRAWER = ['.topbar', '#thread-view', '.statusbar'];

export function openDetails() {
  $('side-pane').classList.add('drawer-open');
  $('act-details').setAttribute('aria-expanded', 'true');
  for (const sel of UNDER_DRAWER) document.querySelector(sel).inert = true;
  $('side-close').focus();
}

export function closeDetails(refocus = false) {
  if (!$('side-pane').classList.contains('drawer-open')) return;
  $('side-pane').classList.remove('drawer-open');
  $('act-details').setAttribute('aria-expanded', 'false');
  for (const sel of UNDER_DRAWER) document.querySelector(sel).inert = false;
  if (refocus) $('act-details').focus();
}

export async function loadThread(id, first = false) {
  try {
    const { data } = await api('GET', `/staff/api/conversations/${encodeURIComponent(id)}`);
    if (state.openId !== id) return;
    state.open = data;
    renderThread(data, first);
  } catch (x) {
    if (x.status === 404) {
      toast('This conversation no longer exists (the person may have had their data erased).', 'error');
      state.openId = null;
      $('view-conversations').classList.remove('showing-thread');
      $('thread-view').hidden = true;
      $('side-pane').hidden = true;
      $('thread-placeholder').hidden = false;
    } else if (x.status !== 401) toast(`Could not load the conversation: ${x.message}`, 'error');
  }
}

export function renderThread(c, first) {
  $('thread-placeholder').hidden = true;
  $('thread-view').hidden = false;
  $('side-pane').hidden = false;
  $('thread-title').textContent = c.name || 'No profile name';
  const revealed = state.revealed && state.revealed.id === c.id ? state.revealed.number : null;
  const num = $('thread-number');
  num.textContent = revealed || c.number;
  num.className = revealed ? 'mono revealed' : 'mono';
  num.title = revealed ? 'Full number, revealed to you (audited)' : 'Number masked';
  const badges = $('thread-badges');
  // Consent leads the details panel; the header carries only what changes how to act here.
  badges.replaceChildren();
  if (c.paused) badges.append(badge('Bot paused', 'outline'));
  if (c.suppressed) badges.append(badge('Suppressed', 'bad', 'On the suppression list: no marketing is sent'));
  const needs = $('needs-human');
  needs.hidden = !c.needsHumanAt;
  needs.textContent = c.needsHumanAt
    ? `Needs a human: the person wrote something the bot cannot answer (last at ${fmtDateTime(c.needsHumanAt)}). A reply clears this${can('triage') ? ', or mark it as handled' : ''}.`
    : '';
  renderActions(c);
  renderMessages(c, first);
  renderReply(c);
  renderSide(c);
}

function renderActions(c) {
  const acts = $('thread-actions');
  const reveal = $('act-reveal');
  const pause = $('act-pause');
  const optout = $('act-optout');
  const exp = $('act-export');
  reveal.hidden = !can('reveal') || (state.revealed && state.revealed.id === c.id);
  pause.hidden = !can('pause');
  pause.textContent = c.paused ? 'Resume bot' : 'Pause bot';
  optout.hidden = !can('opt_out');
  optout.disabled = c.consent === 'opted_out';
  optout.title = c.consent === 'opted_out' ? 'Already opted out' : 'Record an opt-out on the person’s behalf';
  exp.hidden = !can('export');
  $('act-dismiss').hidden = !can('triage') || !c.needsHumanAt;
  $('act-erase').hidden = !can('erase');
  acts.hidden = false; // "Details" is always there on a phone
}

export function renderReply(c) {
  const form = $('reply-form');
  const ro = $('reply-readonly');
  if (!can('reply')) {
    form.hidden = true;
    ro.hidden = false;
    return;
  }
  form.hidden = false;
  ro.hidden = true;
  const open = Boolean(c.windowOpen);
  $('reply-text').disabled = !open;
  $('reply-send').disabled = !open;
  form.classList.toggle('closed', !open);
  const hint = $('reply-hint');
  if (open) {
    hint.className = 'hint';
    hint.textContent = `Enter sends, Shift+Enter starts a new line. Free-form replies are possible until ${fmtDateTime(c.windowUntil)} (24-hour window).`;
  } else {
    hint.className = 'hint warn-note';
    const template = state.me && state.me.utilityTemplate;
    hint.textContent = template
      ? `The 24-hour window is closed, so WhatsApp takes no free-form reply until the person writes again. Messages still reach them through the approved template "${template}": the bot's own confirmations use it, and your systems can send through POST /api/v1/messages.`
      : 'The 24-hour window is closed, so WhatsApp takes no free-form reply until the person writes again. No approved template is configured (UTILITY_TEMPLATE_NAME) to reach them before that.';
  }
}

// The window closes while the page is open: checked every 30 s against the time it was said to end.
setInterval(() => {
  const c = state.open;
  if (c && c.windowOpen && c.windowUntil && new Date(c.windowUntil).getTime() <= Date.now()) {
    c.windowOpen = false;
    renderReply(c);
    renderSide(c);
  }
}, 30_000);

function fact(term, ...desc) {
  return [el('dt', { text: term }), el('dd', {}, ...desc)];
}

function renderSide(c) {
  const facts = [];
  facts.push(...fact('Consent', consentBadge(c.consent), c.consentAt ? el('span', { class: 'sub', text: `since ${fmtDateTime(c.consentAt)}` }) : null));
  facts.push(
    ...fact(
      'Window',
      c.windowOpen ? badge('Open', 'ok') : badge('Closed', 'none'),
      c.windowUntil
        ? el('span', { class: 'sub', text: `${c.windowOpen ? 'until' : 'ended'} ${fmtDateTime(c.windowUntil)}` })
        : el('span', { class: 'sub', text: 'the person never wrote' }),
    ),
  );
  facts.push(...fact('Bot', c.paused ? badge('Paused', 'outline') : badge('Answering', 'ok')));
  facts.push(
    ...fact(
      'Suppression',
      c.suppressed ? badge('Suppressed', 'bad') : badge('Not suppressed', 'none'),
      el('span', { class: 'sub', text: c.suppressed ? 'no marketing may be sent' : 'marketing follows consent' }),
    ),
  );
  facts.push(...fact('Language', el('span', { text: c.locale ? c.locale.toUpperCase() : 'not known yet' })));
  $('side-facts').replaceChildren(...facts);

  const reqs = c.requests.map((r) =>
    el(
      'li',
      {},
      el('span', { class: 'row' }, el('strong', { text: TYPE_LABEL[r.type] || r.type }), badge(STATE_LABEL[r.state] || r.state, STATE_CLS[r.state] || 'none')),
      el('span', { class: 'sub', text: `Received ${fmtDateTime(r.receivedAt)} · via ${CHANNEL_LABEL[r.channel] || r.channel} · ${r.regime}` }),
      r.state === 'open'
        ? el('span', { class: 'row' }, el('span', { text: `Due ${fmtDate(r.dueAt)}` }), badge(daysText(r.daysLeft), urgent(r.daysLeft) ? 'urgent' : 'info'))
        : el('span', { class: 'sub', text: r.outcome ? `Outcome: ${r.outcome}` : `Was due ${fmtDate(r.dueAt)}` }),
    ),
  );
  $('side-requests').replaceChildren(...(reqs.length ? reqs : [el('li', { class: 'none', text: 'No rights requests.' })]));

  const hist = c.consentHistory
    .slice()
    .reverse()
    .map((h) =>
      el(
        'li',
        {},
        el(
          'span',
          { class: 'row' },
          el('strong', { text: h.action === 'grant' ? 'Granted' : h.action === 'withdraw' ? 'Withdrawn' : h.action }),
          el('span', { class: 'sub', text: fmtDateTime(h.at) }),
        ),
        el('span', { class: 'sub', text: `source: ${h.source}${h.link ? ` · ${h.link.name || h.link.code}` : ''}${h.detail ? ` · ${h.detail}` : ''}` }),
      ),
    );
  $('side-consents').replaceChildren(...(hist.length ? hist : [el('li', { class: 'none', text: 'No consent changes recorded.' })]));
}
