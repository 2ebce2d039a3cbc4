// What an agent does in the open conversation: reply, pause or resume the bot, record an opt-out,
// reveal the number, export the person's data. The buttons show only for the permissions /me listed
// (thread.js); the server checks each call again.
import { act, api } from './api.js';
import { $, el, toast } from './dom.js';
import { refreshList } from './conversations.js';
import { state } from './state.js';
import { closeConversation, closeDetails, loadThread, openDetails, renderReply, renderThread } from './thread.js';

const at = (id, what) => `/staff/api/conversations/${encodeURIComponent(id)}/${what}`;

async function sendReply() {
  const id = state.openId;
  const box = $('reply-text');
  const text = box.value.trim();
  if (!id || !text || box.disabled) return;
  $('reply-send').disabled = true;
  try {
    await api('POST', at(id, 'reply'), { text });
    if (state.openId === id) box.value = '';
    toast('Reply queued for sending.');
    await loadThread(id);
    refreshList();
  } catch (x) {
    if (x.status === 401) return;
    toast(`Sending failed: ${x.message}`, 'error');
    // Refused because the window closed meanwhile: show the window as it is now (the draft stays).
    if (x.status === 409) await loadThread(id);
  }
  if (state.open) renderReply(state.open);
  box.focus();
}

function confirmAction(title, text, ok) {
  const d = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = ok;
  d.returnValue = '';
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.showModal();
    $('confirm-cancel').focus();
  });
}

async function markOptOut(messageId) {
  const id = state.openId;
  const ok = await confirmAction(
    'Record an opt-out?',
    'The person will receive no more marketing, and gets one confirmation message. This is recorded with you as the source.',
    'Record opt-out',
  );
  if (!ok) return;
  await act('Recording the opt-out', async () => {
    const { data } = await api('POST', at(id, 'opt-out'), messageId ? { messageId } : {});
    toast(data.outcome === 'opted_out' ? 'Opt-out recorded; the person is told once.' : `No change: ${String(data.outcome).replace(/_/g, ' ')}.`);
    await loadThread(id);
    refreshList();
  });
}

// Reveal and export both show the full number: one dialog asks why; the server audits the reason.
function askReason(mode) {
  state.reasonFor = mode;
  $('reveal-title').textContent = mode === 'export' ? "Export this person's data" : 'Reveal the full number';
  $('reveal-desc').textContent =
    mode === 'export'
      ? 'The export holds the full number and every message. Your name and the reason are recorded in the audit log.'
      : 'The number is shown to you only. Your name and the reason are recorded in the audit log.';
  $('reveal-confirm').textContent = mode === 'export' ? 'Export data' : 'Reveal number';
  $('reveal-reason').value = '';
  $('reveal-error').hidden = true;
  $('reveal-dialog').showModal();
  $('reveal-reason').focus();
}

async function exportWith(reason) {
  const id = state.openId;
  const { data, response } = await api('POST', at(id, 'export'), { reason });
  const disposition = response.headers.get('content-disposition') || '';
  const name = (/filename="?([^";]+)"?/.exec(disposition) || [])[1] || `subject-${id}.json`;
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  toast(`Exported ${name}. The export and your reason are in the audit log.`);
}

async function submitReason(e) {
  e.preventDefault();
  const reason = $('reveal-reason').value.trim();
  const err = $('reveal-error');
  if (reason.length < 5) {
    err.textContent = 'State a reason of at least 5 characters.';
    err.hidden = false;
    $('reveal-reason').focus();
    return;
  }
  const id = state.openId;
  try {
    if (state.reasonFor === 'export') {
      await exportWith(reason);
      $('reveal-dialog').close();
      return;
    }
    const { data } = await api('POST', at(id, 'reveal'), { reason });
    $('reveal-dialog').close();
    state.revealed = { id, number: data.number || 'no number on record (username only)' };
    if (state.open) renderThread(state.open, false);
    $('thread-number').focus();
    toast('Number revealed. The reveal and your reason are in the audit log.');
  } catch (x) {
    if (x.status === 401) return $('reveal-dialog').close();
    err.textContent = x.message;
    err.hidden = false;
  }
}

async function dismiss() {
  const id = state.openId;
  await act('Marking as handled', async () => {
    await api('POST', at(id, 'dismiss'), state.open && state.open.needsHumanAt ? { seen: state.open.needsHumanAt } : {});
    toast('Marked as handled: no longer waiting for a human.');
    await loadThread(id);
    refreshList();
  });
  $('thread-title').focus();
}

function askErase() {
  $('erase-note').value = '';
  $('erase-error').hidden = true;
  $('erase-dialog').showModal();
  $('erase-note').focus();
}

async function submitErase(e) {
  e.preventDefault();
  const note = $('erase-note').value.trim();
  const err = $('erase-error');
  if (note.length < 5) {
    err.textContent = 'Say where and when the person asked (at least 5 characters).';
    err.hidden = false;
    $('erase-note').focus();
    return;
  }
  const id = state.openId;
  const confirm = $('erase-confirm');
  if (confirm.disabled) return;
  confirm.disabled = true;
  try {
    await api('POST', at(id, 'erase'), { note });
    $('erase-dialog').close();
    toast('Erased. The person is told in WhatsApp; the erasure is in the audit log.');
    state.openId = null;
    state.open = null;
    $('thread-view').hidden = true;
    $('side-pane').hidden = true;
    $('thread-placeholder').hidden = false;
    window.location.hash = '#/conversations';
    closeConversation();
    refreshList();
  } catch (x) {
    if (x.status === 401) return $('erase-dialog').close();
    err.textContent = x.message;
    err.hidden = false;
  } finally {
    confirm.disabled = false;
  }
}

export function bindActions() {
  $('act-dismiss').addEventListener('click', dismiss);
  $('act-erase').addEventListener('click', askErase);
  $('erase-cancel').addEventListener('click', () => $('erase-dialog').close());
  $('erase-form').addEventListener('submit', submitErase);
  $('thread-back').addEventListener('click', () => {
    window.location.hash = '#/conversations';
    closeConversation();
  });
  $('act-details').addEventListener('click', openDetails);
  $('side-close').addEventListener('click', () => closeDetails(true));
  $('side-pane').addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && $('side-pane').classList.contains('drawer-open')) closeDetails(true);
  });
  $('reply-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sendReply();
  });
  $('reply-text').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendReply();
    }
  });
  $('act-pause').addEventListener('click', () =>
    act('Changing the bot', async () => {
      const id = state.openId;
      const paused = state.open && state.open.paused;
      await api('POST', at(id, paused ? 'resume' : 'pause'), {});
      toast(paused ? 'The bot answers this person again.' : 'The bot is paused for this person; rights keywords are still carried out.');
      await loadThread(id);
      refreshList();
    }),
  );
  $('act-optout').addEventListener('click', () => markOptOut());
  // A message's own "Mark as opt-out" button (messages.js): the thread is rebuilt often, so one
  // listener here serves them all.
  $('thread').addEventListener('click', (e) => {
    const button = e.target.closest('.msg-action button');
    if (button) markOptOut(button.closest('li.msg').dataset.id);
  });
  $('act-export').addEventListener('click', () => askReason('export'));
  $('act-reveal').addEventListener('click', () => askReason('reveal'));
  $('reveal-cancel').addEventListener('click', () => $('reveal-dialog').close());
  $('reveal-form').addEventListener('submit', submitReason);
}
