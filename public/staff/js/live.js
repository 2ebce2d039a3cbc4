// Live updates: server-sent events from /staff/api/events say which conversation changed; the list
// and the open thread are fetched again, a little later, so a burst of changes costs one fetch.
import { refreshList } from './conversations.js';
import { signedOut } from './session.js';
import { state } from './state.js';
import { loadThread } from './thread.js';

let listTimer;
let threadTimer;

function scheduleThread() {
  clearTimeout(threadTimer);
  threadTimer = setTimeout(() => state.openId && loadThread(state.openId), 120);
}

export function connectEvents() {
  if (state.events) state.events.close();
  const es = new EventSource('/staff/api/events');
  state.events = es;
  es.onmessage = (ev) => {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (msg.type !== 'conversation') return;
    clearTimeout(listTimer);
    listTimer = setTimeout(refreshList, 120);
    if (msg.id === state.openId) scheduleThread();
  };
  es.onerror = async () => {
    // The browser reconnects by itself; a closed stream after a 401 means the session ended.
    if (es.readyState !== EventSource.CLOSED || state.events !== es) return;
    const r = await fetch('/staff/api/me', { credentials: 'same-origin' }).catch(() => null);
    if (r && r.status === 401) signedOut('Your session has ended. Sign in again to continue.');
    else setTimeout(() => state.me && state.events === es && connectEvents(), 3000);
  };
}
