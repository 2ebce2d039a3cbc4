// The staff console: a vanilla single page over /staff/api. Everything the people we serve wrote is
// rendered with textContent, never as HTML.
(() => {
  const $ = (id) => document.getElementById(id);

  // Mirrors src/staff/roles.ts; the server checks every call, this only hides what would be refused.
  const GRANTS = {
    viewer: ['read'],
    agent: ['read', 'reply', 'reveal', 'pause', 'opt_out', 'export'],
    admin: ['read', 'reply', 'reveal', 'pause', 'opt_out', 'export', 'audit', 'manage_staff'],
  };
  const TYPE_LABEL = { opt_out: 'Opt-out', opt_in: 'Opt-in', access: 'Access', erasure: 'Erasure' };
  const CONSENT = {
    opted_in: { text: 'Opted in', cls: 'ok' },
    opted_out: { text: 'Opted out', cls: 'bad' },
    none: { text: 'No consent', cls: 'none' },
  };
  const STATE_CLS = { open: 'info', done: 'ok', cancelled: 'none', expired: 'warn' };

  const state = {
    me: null, // { staff, csrf, business? }
    csrf: null,
    view: 'conversations',
    conversations: [],
    openId: null,
    open: null, // the open conversation, as the API returned it
    revealed: null, // { id, number } — the full number, for the open conversation only
    rendered: new Map(), // message id → <li>, for the open thread
    events: null,
  };

  // ---------- formatting ----------
  const dtf = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const tf = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
  const df = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
  const dayf = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  const toDate = (v) => (v ? new Date(v) : null);
  const fmtDateTime = (v) => (v ? dtf.format(toDate(v)) : '—');
  const fmtTime = (v) => (v ? tf.format(toDate(v)) : '');
  const fmtDate = (v) => (v ? df.format(toDate(v)) : '—');
  const fmtDay = (v) => dayf.format(toDate(v));
  const sameDay = (a, b) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  const stampf = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
  /** A short stamp for the list: the time for today, else day and time. */
  function fmtStamp(v) {
    if (!v) return '';
    const d = toDate(v);
    return sameDay(d, new Date()) ? tf.format(d) : stampf.format(d);
  }
  /** daysLeft from the API is ceil((due - now) / day): anything ≤ 0 is past due. */
  function daysText(n) {
    if (n === null || n === undefined) return '—';
    if (n <= 0) return n < 0 ? `overdue by ${-n} day${n === -1 ? '' : 's'}` : 'overdue';
    return `${n} day${n === 1 ? '' : 's'} left`;
  }
  const urgent = (n) => n !== null && n !== undefined && n <= 3;
  function byText(by) {
    if (!by || by === 'subscriber') return null;
    if (by.startsWith('staff:')) return by.slice(6) === state.me?.staff.id ? 'staff (you)' : 'staff';
    return by; // bot | api
  }

  // ---------- DOM helpers ----------
  /** el('span', { class: 'x', text: 'y' }, ...children) — text only through textContent. */
  function el(tag, props = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (v === true) e.setAttribute(k, '');
      else e.setAttribute(k, String(v));
    }
    for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
    return e;
  }
  const badge = (text, cls, title) => el('span', { class: `badge ${cls}`, text, title });
  const consentBadge = (c) => {
    const k = CONSENT[c] || CONSENT.none;
    return badge(k.text, k.cls, 'Marketing consent');
  };
  const requestBadge = (r) =>
    badge(`${TYPE_LABEL[r.type] || r.type} · ${daysText(r.daysLeft)}`, urgent(r.daysLeft) ? 'urgent' : 'info', `Open ${TYPE_LABEL[r.type] || r.type} request, due ${fmtDate(r.dueAt)}`);

  let toastTimer;
  function toast(text, kind = 'info') {
    const t = $('toast');
    t.textContent = text;
    t.className = `toast${kind === 'error' ? ' error' : ''}`;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (t.hidden = true), kind === 'error' ? 7000 : 4000);
  }

  // ---------- API ----------
  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error) || `request failed (${status})`);
      this.status = status;
      this.body = body;
    }
  }
  async function api(method, path, body) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && state.csrf) headers['x-csrf-token'] = state.csrf;
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
    const data = r.headers.get('content-type')?.includes('json') ? await r.json().catch(() => null) : null;
    if (r.status === 401 && path !== '/staff/api/login' && path !== '/staff/api/me') {
      signedOut('Your session has ended. Sign in again to continue.');
      throw new ApiError(401, data);
    }
    if (!r.ok) throw new ApiError(r.status, data);
    return { data, response: r };
  }
  const can = (action) => {
    const grants = state.me?.permissions || GRANTS[state.me?.staff.role] || [];
    return grants.includes(action);
  };

  // ---------- sign-in ----------
  function showLogin(notice) {
    $('booting').hidden = true;
    $('console-view').hidden = true;
    $('login-view').hidden = false;
    $('login-notice').hidden = !notice;
    $('login-notice').textContent = notice || '';
    $('login-email').focus();
  }
  function signedOut(notice) {
    if (state.events) state.events.close();
    state.events = null;
    state.me = null;
    state.csrf = null;
    state.openId = null;
    state.open = null;
    state.revealed = null;
    state.rendered.clear();
    $('thread').replaceChildren();
    showLogin(notice);
  }

  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const email = $('login-email').value.trim();
    const password = $('login-password').value;
    const err = $('login-error');
    err.hidden = true;
    if (!email || !password) {
      err.textContent = 'Enter your email and password.';
      err.hidden = false;
      return;
    }
    $('login-submit').disabled = true;
    try {
      const { data } = await api('POST', '/staff/api/login', { email, password });
      $('login-password').value = '';
      start(data);
    } catch (x) {
      if (x.status === 401) err.textContent = 'Wrong email or password.';
      else if (x.status === 423) {
        const until = x.body && x.body.lockedUntil ? fmtDateTime(x.body.lockedUntil) : null;
        err.textContent = until ? `Too many failed attempts: this account is locked until ${until}.` : 'Too many failed attempts: this account is locked for now.';
      } else if (x.status === 400) err.textContent = 'Enter a valid email and a password.';
      else err.textContent = 'Signing in failed. Check the connection and try again.';
      err.hidden = false;
      $('login-password').select();
    } finally {
      $('login-submit').disabled = false;
    }
  });

  $('logout').addEventListener('click', async () => {
    try {
      await api('POST', '/staff/api/logout', {});
    } catch {
      /* signed out either way */
    }
    signedOut('You have signed out.');
  });

  /** After /me or a login: the console, for this person's role. */
  function start(me) {
    state.me = me;
    state.csrf = me.csrf;
    const business = typeof me.business === 'string' ? me.business : me.business && me.business.name;
    $('brand-name').textContent = business || 'Privacy console';
    $('brand-sub').textContent = business ? 'Privacy console · staff' : 'Staff console · privacy rights on WhatsApp';
    document.title = `${business ? `${business} · ` : ''}Staff console`;
    $('user-name').textContent = me.staff.name || me.staff.email;
    $('user-name').title = me.staff.email;
    $('user-role').textContent = me.staff.role;
    document.querySelector('[data-tab="audit"]').hidden = !can('audit');
    document.querySelector('[data-tab="staff"]').hidden = !can('manage_staff');
    $('booting').hidden = true;
    $('login-view').hidden = true;
    $('console-view').hidden = false;
    connectEvents();
    route();
    refreshList();
  }

  // ---------- routing: #/conversations[/id] · #/requests · #/audit · #/staff ----------
  function route() {
    if (!state.me) return;
    const [, view = 'conversations', id] = window.location.hash.split('/');
    const allowed = { conversations: true, requests: true, audit: can('audit'), staff: can('manage_staff') };
    const v = allowed[view] ? view : 'conversations';
    state.view = v;
    for (const name of Object.keys(allowed)) $(`view-${name}`).hidden = name !== v;
    for (const a of document.querySelectorAll('.tabs a')) {
      if (a.dataset.tab === v) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (v === 'conversations') {
      if (id && id !== state.openId) openConversation(decodeURIComponent(id));
    } else if (v === 'requests') loadRequests();
    else if (v === 'audit') loadAudit();
    else if (v === 'staff') loadStaff();
  }
  window.addEventListener('hashchange', route);

  // ---------- live updates ----------
  let listTimer;
  function connectEvents() {
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
  let threadTimer;
  function scheduleThread() {
    clearTimeout(threadTimer);
    threadTimer = setTimeout(() => state.openId && loadThread(state.openId), 120);
  }

  // ---------- conversation list ----------
  async function refreshList() {
    if (!state.me) return;
    try {
      const { data } = await api('GET', '/staff/api/conversations');
      state.conversations = data.conversations;
      renderList();
    } catch (x) {
      if (x.status !== 401) toast(`Could not load conversations: ${x.message}`, 'error');
    }
  }

  function renderList() {
    const list = $('conv-list');
    const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.id : null;
    const items = state.conversations.map((c) => {
      const badges = el('span', { class: 'badges' }, consentBadge(c.consent));
      for (const r of c.openRequests) badges.append(requestBadge(r));
      if (c.unanswered) badges.append(badge('Unanswered', 'warn', 'The person wrote last and nobody answered yet'));
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
    $('conv-empty').hidden = items.length > 0;
    $('conv-count').textContent = items.length ? `${items.length} shown` : '';
    if (focusedId) {
      const again = list.querySelector(`button[data-id="${CSS.escape(focusedId)}"]`);
      if (again) again.focus();
    }
  }

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

  // ---------- one conversation ----------
  async function openConversation(id) {
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
    await loadThread(id, true);
  }

  async function loadThread(id, first = false) {
    try {
      const { data } = await api('GET', `/staff/api/conversations/${encodeURIComponent(id)}`);
      if (state.openId !== id) return;
      state.open = data;
      renderThread(data, first);
    } catch (x) {
      if (x.status === 404) {
        toast('This conversation no longer exists (the person may have had their data erased).', 'error');
        state.openId = null;
        $('thread-view').hidden = true;
        $('side-pane').hidden = true;
        $('thread-placeholder').hidden = false;
      } else if (x.status !== 401) toast(`Could not load the conversation: ${x.message}`, 'error');
    }
  }

  function renderThread(c, first) {
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
    acts.hidden = [reveal, pause, optout, exp].every((b) => b.hidden);
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

  function fillMeta(li, meta, m) {
    const parts = [el('time', { datetime: m.at, text: fmtTime(m.at), title: fmtDateTime(m.at) })];
    if (m.direction === 'in') {
      if (m.intent) parts.push(el('span', { class: 'intent', title: 'What the bot understood', text: `→ ${m.intent}` }));
    } else {
      const by = byText(m.by);
      if (by) parts.push(el('span', { class: 'by', text: by }));
      if (m.status) parts.push(el('span', { class: `status ${m.status}`, text: m.status === 'failed' ? '✕ failed' : m.status === 'read' || m.status === 'delivered' ? `✓ ${m.status}` : m.status }));
    }
    meta.replaceChildren(...parts);
    const old = li.querySelector('.msg-action');
    if (old) old.remove();
    if (m.direction === 'in' && m.intent === 'ask_opt_out' && can('opt_out') && state.open && state.open.consent !== 'opted_out') {
      li.append(
        el(
          'div',
          { class: 'msg-action' },
          el('button', { type: 'button', class: 'btn small', text: 'Mark as opt-out', title: 'The bot was not sure; record this message as an opt-out', onclick: () => markOptOut(m.id) }),
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

  function renderMessages(c, first) {
    const thread = $('thread');
    const nearBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
    const list = ordered(c.messages);
    // Only new messages are appended, so the live region announces only what is new. When that
    // would break the order (a message vanished to retention or erasure, or one arrived with an
    // earlier time), the thread is rebuilt.
    const shown = [...state.rendered.keys()];
    const firstNew = list.findIndex((m) => !state.rendered.has(m.id));
    const prefix = (firstNew < 0 ? list : list.slice(0, firstNew)).map((m) => m.id);
    const inOrder = prefix.length === shown.length && prefix.every((id, i) => id === shown[i]) && list.slice(Math.max(firstNew, 0)).every((m) => !state.rendered.has(m.id) || firstNew < 0);
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

  function renderReply(c) {
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
      hint.textContent = 'Replies are disabled: the 24-hour window is closed: the person has to write first.';
    }
  }

  function fact(term, ...desc) {
    return [el('dt', { text: term }), el('dd', {}, ...desc)];
  }
  function renderSide(c) {
    const facts = [];
    facts.push(...fact('Consent', consentBadge(c.consent), c.consentAt ? el('span', { class: 'sub', text: `since ${fmtDateTime(c.consentAt)}` }) : null));
    facts.push(...fact('Window', c.windowOpen ? badge('Open', 'ok') : badge('Closed', 'none'), c.windowUntil ? el('span', { class: 'sub', text: `${c.windowOpen ? 'until' : 'ended'} ${fmtDateTime(c.windowUntil)}` }) : el('span', { class: 'sub', text: 'the person never wrote' })));
    facts.push(...fact('Bot', c.paused ? badge('Paused', 'outline') : badge('Answering', 'ok')));
    facts.push(...fact('Suppression', c.suppressed ? badge('Suppressed', 'bad') : badge('Not suppressed', 'none'), el('span', { class: 'sub', text: c.suppressed ? 'no marketing may be sent' : 'marketing follows consent' })));
    facts.push(...fact('Language', el('span', { text: c.locale ? c.locale.toUpperCase() : 'not known yet' })));
    $('side-facts').replaceChildren(...facts);

    const reqs = c.requests.map((r) =>
      el(
        'li',
        {},
        el('span', { class: 'row' }, el('strong', { text: TYPE_LABEL[r.type] || r.type }), badge(r.state, STATE_CLS[r.state] || 'none')),
        el('span', { class: 'sub', text: `Received ${fmtDateTime(r.receivedAt)} · via ${r.channel} · ${r.regime}` }),
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
          el('span', { class: 'row' }, el('strong', { text: h.action === 'grant' ? 'Granted' : h.action === 'withdraw' ? 'Withdrawn' : h.action }), el('span', { class: 'sub', text: fmtDateTime(h.at) })),
          el('span', { class: 'sub', text: `source: ${h.source}${h.detail ? ` · ${h.detail}` : ''}` }),
        ),
      );
    $('side-consents').replaceChildren(...(hist.length ? hist : [el('li', { class: 'none', text: 'No consent changes recorded.' })]));
  }

  // ---------- actions ----------
  async function act(label, fn) {
    try {
      await fn();
    } catch (x) {
      if (x.status !== 401) toast(`${label} failed: ${x.message}`, 'error');
    }
  }

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
  async function sendReply() {
    const id = state.openId;
    const box = $('reply-text');
    const text = box.value.trim();
    if (!id || !text || box.disabled) return;
    $('reply-send').disabled = true;
    await act('Sending', async () => {
      await api('POST', `/staff/api/conversations/${encodeURIComponent(id)}/reply`, { text });
      if (state.openId === id) box.value = '';
      toast('Reply queued for sending.');
      await loadThread(id);
      refreshList();
    });
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

  $('act-pause').addEventListener('click', () =>
    act('Changing the bot', async () => {
      const id = state.openId;
      const paused = state.open && state.open.paused;
      await api('POST', `/staff/api/conversations/${encodeURIComponent(id)}/${paused ? 'resume' : 'pause'}`, {});
      toast(paused ? 'The bot answers this person again.' : 'The bot is paused for this person; rights keywords are still carried out.');
      await loadThread(id);
      refreshList();
    }),
  );

  async function markOptOut(messageId) {
    const id = state.openId;
    const ok = await confirmAction(
      'Record an opt-out?',
      'The person will receive no more marketing, and gets one confirmation message. This is recorded with you as the source.',
      'Record opt-out',
    );
    if (!ok) return;
    await act('Recording the opt-out', async () => {
      const { data } = await api('POST', `/staff/api/conversations/${encodeURIComponent(id)}/opt-out`, messageId ? { messageId } : {});
      toast(data.outcome === 'opted_out' ? 'Opt-out recorded; the person is told once.' : `No change: ${String(data.outcome).replace(/_/g, ' ')}.`);
      await loadThread(id);
      refreshList();
    });
  }
  $('act-optout').addEventListener('click', () => markOptOut());

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
    const { data, response } = await api('POST', `/staff/api/conversations/${encodeURIComponent(id)}/export`, { reason });
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
  $('act-export').addEventListener('click', () => askReason('export'));
  $('act-reveal').addEventListener('click', () => askReason('reveal'));
  $('reveal-cancel').addEventListener('click', () => $('reveal-dialog').close());
  $('reveal-form').addEventListener('submit', async (e) => {
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
      const { data } = await api('POST', `/staff/api/conversations/${encodeURIComponent(id)}/reveal`, { reason });
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
  });

  // ---------- requests ----------
  $('req-filters').addEventListener('submit', (e) => {
    e.preventDefault();
    loadRequests();
  });
  for (const id of ['req-type', 'req-state', 'req-overdue']) $(id).addEventListener('change', () => loadRequests());

  async function loadRequests() {
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
          el('td', { class: 'nowrap' }, r.state === 'open' ? badge(daysText(r.daysLeft), urgent(r.daysLeft) ? 'urgent' : 'info') : el('span', { class: 'muted', text: '—' })),
          el('td', {}, badge(r.state, STATE_CLS[r.state] || 'none'), r.outcome ? el('span', { class: 'muted small', text: ` ${r.outcome}` }) : null),
          el('td', { text: r.regime }),
          el('td', { class: 'nowrap' }, r.conversationId ? el('a', { href: `#/conversations/${encodeURIComponent(r.conversationId)}`, text: 'Open conversation' }) : el('span', { class: 'muted', text: 'erased' })),
        ),
      );
      $('req-rows').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { class: 'empty-row', colspan: 8, text: 'No requests match these filters.' }))]));
      $('req-count').textContent = `${rows.length} request${rows.length === 1 ? '' : 's'}`;
    } catch (x) {
      if (x.status !== 401) toast(`Could not load requests: ${x.message}`, 'error');
    }
  }

  // ---------- audit ----------
  function verifyCard(node, title, v) {
    node.className = `verify-card ${!v ? 'never' : v.ok ? 'ok' : 'bad'}`;
    const status = !v ? badge('Never verified', 'none') : v.ok ? badge('✓ Intact', 'ok') : badge(`✕ Broken at #${v.firstBroken ? v.firstBroken.seq : '?'}`, 'bad');
    const text = !v
      ? 'No verification has run yet.'
      : v.ok
        ? `${v.entries} entr${v.entries === 1 ? 'y' : 'ies'} checked · ${fmtDateTime(v.at)}`
        : `${v.firstBroken ? v.firstBroken.reason : 'chain broken'} · checked ${fmtDateTime(v.at)}`;
    node.replaceChildren(el('h2', {}, el('span', { text: title }), status), el('p', { text }));
  }
  async function loadAudit() {
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
          el('td', {}, el('span', { class: 'intent', text: e.action })),
          el('td', { class: 'mono', text: e.subscriberToken || '—' }),
          el('td', { class: 'detail', text: e.detail || '' }),
        ),
      );
      $('audit-rows').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { class: 'empty-row', colspan: 6, text: 'No entries.' }))]));
    } catch (x) {
      if (x.status !== 401) toast(`Could not load the audit log: ${x.message}`, 'error');
    }
  }
  $('verify-now').addEventListener('click', () =>
    act('Verification', async () => {
      $('verify-now').disabled = true;
      try {
        const { data } = await api('POST', '/staff/api/audit/verify', {});
        verifyCard($('verify-audit'), 'Staff audit log', data.audit);
        verifyCard($('verify-ledger'), 'Rights ledger', data.ledger);
        toast(data.audit.ok && data.ledger.ok ? 'Both chains verified: intact.' : 'Verification found a broken chain.', data.audit.ok && data.ledger.ok ? 'info' : 'error');
      } finally {
        $('verify-now').disabled = false;
      }
    }),
  );

  // ---------- staff ----------
  async function loadStaff() {
    try {
      const { data } = await api('GET', '/staff/api/staff');
      const rows = data.staff.map((s) => {
        const self = s.id === state.me.staff.id;
        const select = el('select', { 'aria-label': `Role of ${s.email}` }, ...['viewer', 'agent', 'admin'].map((r) => el('option', { value: r, text: r[0].toUpperCase() + r.slice(1), selected: r === s.role })));
        const save = el('button', { type: 'button', class: 'btn small', text: 'Change role', 'aria-label': `Change role of ${s.email}` });
        save.addEventListener('click', () => patchStaff(s.email, { role: select.value }, `Role of ${s.email} is now ${select.value}.`));
        const locked = s.lockedUntil && new Date(s.lockedUntil) > new Date();
        const status = s.disabled ? badge('Disabled', 'bad') : locked ? badge(`Locked until ${fmtDateTime(s.lockedUntil)}`, 'warn') : badge('Active', 'ok');
        let toggle;
        if (self) toggle = el('span', { class: 'muted small', text: 'you' });
        else {
          toggle = el('button', { type: 'button', class: s.disabled ? 'btn small' : 'btn small danger', text: s.disabled ? 'Enable' : 'Disable', 'aria-label': `${s.disabled ? 'Enable' : 'Disable'} ${s.email}` });
          toggle.addEventListener('click', () => patchStaff(s.email, { disabled: !s.disabled }, `${s.email} is ${s.disabled ? 'enabled' : 'disabled'}; their sessions have ended.`));
        }
        return el(
          'tr',
          {},
          el('td', { text: s.email }),
          el('td', { text: s.name }),
          el('td', {}, el('span', { class: 'role-cell' }, select, save)),
          el('td', {}, status),
          el('td', { text: s.lastLoginAt ? fmtDateTime(s.lastLoginAt) : 'never' }),
          el('td', {}, el('span', { class: 'row-actions' }, toggle)),
        );
      });
      $('staff-rows').replaceChildren(...rows);
    } catch (x) {
      if (x.status !== 401) toast(`Could not load staff: ${x.message}`, 'error');
    }
  }
  async function patchStaff(email, change, done) {
    await act('Updating the account', async () => {
      await api('PATCH', `/staff/api/staff/${encodeURIComponent(email)}`, change);
      toast(done);
      if (email === state.me.staff.email) {
        // A change to one's own account ends one's sessions (accounts.ts).
        signedOut('Your account changed; sign in again.');
        return;
      }
      loadStaff();
    });
  }
  $('staff-create').addEventListener('submit', async (e) => {
    e.preventDefault();
    const err = $('staff-create-error');
    err.hidden = true;
    const body = { email: $('new-email').value.trim(), name: $('new-name').value.trim(), role: $('new-role').value, password: $('new-password').value };
    if (body.password.length < 12) {
      err.textContent = 'The password needs at least 12 characters.';
      err.hidden = false;
      $('new-password').focus();
      return;
    }
    try {
      await api('POST', '/staff/api/staff', body);
      toast(`Account ${body.email} created as ${body.role}.`);
      $('staff-create').reset();
      $('new-role').value = 'agent';
      loadStaff();
    } catch (x) {
      if (x.status === 401) return;
      err.textContent = x.status === 409 ? 'An account with this email exists already.' : x.message;
      err.hidden = false;
    }
  });

  // ---------- boot: /me first; the sign-in form only on 401 ----------
  (async () => {
    try {
      const { data } = await api('GET', '/staff/api/me');
      start(data);
    } catch (x) {
      showLogin(x.status === 401 ? null : 'The console could not reach the server; sign in to retry.');
    }
  })();
})();
