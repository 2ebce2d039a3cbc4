// The chat simulator: posts what you type as the subscriber, polls the conversation.
(() => {
  const $ = (id) => document.getElementById(id);
  const thread = $('thread');
  const scroller = $('scroller');
  const numberEl = $('waId');
  const nameEl = $('name');
  const textEl = $('text');

  const NUMBER_HELP = 'Enter the number with its country code: 6 to 15 digits, for example +1 555 010 0001.';
  const NAME_NEW = 'The profile name of a new person, saved with their first message.';
  const NAME_STORED = 'The name this person already has. A name is given only to a new number.';

  /** "+1 555-010-0009" → "15550100009", as the server reads it (sandbox/router.ts); null when it is no number. */
  function digitsOf(raw) {
    const v = raw.trim();
    if (!/^\+?[\d\s()-]+$/.test(v)) return null;
    const digits = v.replace(/\D/g, '');
    return /^\d{6,15}$/.test(digits) ? digits : null;
  }

  // The number whose conversation is shown, and per number what the page last showed of it: its
  // messages (kept on screen once the person is erased, as the bot keeps none), the seal the server
  // gave with them (it reads back the erasure confirmation) and the language (the confirmation's).
  let current = null;
  const known = new Map();
  // The seal and language also outlive a reload (this tab only): after an erasure the confirmation
  // is still there. The messages are not kept: they are the person's, and gone from the bot too.
  const kept = (waId) => {
    try {
      const v = JSON.parse(sessionStorage.getItem(`sandbox:${waId}`) || 'null');
      return v && typeof v.seal === 'string' ? { seal: v.seal, locale: v.locale || null, messages: [] } : null;
    } catch {
      return null;
    }
  };
  const keep = (waId, v) => {
    try {
      if (v.seal) sessionStorage.setItem(`sandbox:${waId}`, JSON.stringify({ seal: v.seal, locale: v.locale || null }));
    } catch {
      /* storage full or disabled: the confirmation then lasts until a reload */
    }
  };
  // The name typed for a new person: a person's stored name takes the field's place on screen only.
  let nameDraft = nameEl.value;

  const setText = (el, text) => {
    // Only on a change: rewriting a live region's text announces it again.
    if (el.textContent !== text) el.textContent = text;
  };

  /** The number field's error, tied to the field (empty: none). What was typed stays where it is. */
  function numberError(message) {
    setText($('waError'), message);
    if (message) {
      numberEl.setAttribute('aria-invalid', 'true');
      numberEl.setAttribute('aria-describedby', 'waError waHelp');
    } else {
      numberEl.removeAttribute('aria-invalid');
      numberEl.setAttribute('aria-describedby', 'waHelp');
    }
  }

  /** Why the last message was not sent (empty: it was), tied to the message box, which keeps the draft. */
  function sendError(message) {
    setText($('sendError'), message);
    if (message) textEl.setAttribute('aria-describedby', 'sendError');
    else textEl.removeAttribute('aria-describedby');
  }

  /** The number field as a number: the conversation switches to it, or the field says what is wrong. */
  async function pickNumber() {
    const waId = digitsOf(numberEl.value);
    if (!waId) {
      numberError(NUMBER_HELP);
      return null;
    }
    numberError('');
    if (waId !== current) {
      current = waId;
      sendError('');
      await refresh();
    }
    return waId;
  }

  /** The name field follows the number: a known person's stored name (read-only), else the draft for a new one. */
  function followName(stored) {
    if (stored) {
      nameEl.readOnly = true;
      if (nameEl.value !== stored) nameEl.value = stored;
      setText($('nameHelp'), NAME_STORED);
    } else if (nameEl.readOnly) {
      nameEl.readOnly = false;
      nameEl.value = nameDraft;
      setText($('nameHelp'), NAME_NEW);
    }
  }

  async function send(payload) {
    const waId = await pickNumber();
    if (!waId) {
      numberEl.focus();
      return false;
    }
    sendError('');
    const body = { waId, ...payload };
    // Only a new person is named (the server ignores a name for someone it knows, too).
    if (!nameEl.readOnly && nameEl.value.trim()) body.name = nameEl.value.trim();
    let r;
    try {
      r = await fetch('/sandbox/api/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    } catch {
      sendError('Not sent: the simulator did not answer (is the bot still running?). Your message is still in the box.');
      return false;
    }
    if (!r.ok) {
      const error = (await r.json().catch(() => ({}))).error || `the simulator answered ${r.status}`;
      if (r.status === 409) {
        numberError(`This number cannot be used here: ${error}.`);
        numberEl.focus();
      } else sendError(`Not sent: ${error}.`);
      return false;
    }
    setTimeout(refresh, 150);
    return true;
  }

  // The ids and titles are the message's own, as sent: a tap posts them back the way WhatsApp would
  // (a reply button as `button_reply`, a list row as `list_reply`).
  function actionsFor(body) {
    const it = body && body.interactive;
    if (!it) return [];
    if (it.type === 'button') return it.action.buttons.map((b) => ({ id: b.reply.id, title: b.reply.title, reply: 'button_reply' }));
    if (it.type === 'list') return it.action.sections.flatMap((s) => s.rows.map((r) => ({ id: r.id, title: r.title, reply: 'list_reply' })));
    return [];
  }

  function meta(at, status) {
    const span = document.createElement('span');
    span.className = 'meta';
    span.textContent = `${new Date(at).toLocaleTimeString()}${status ? ` · ${status}` : ''}`;
    return span;
  }

  /** One message; an archived one (shown after the erasure) has no buttons or downloads left. */
  function messageItem(waId, m, archived) {
    const li = document.createElement('li');
    li.className = `msg ${m.direction}${archived ? ' archived' : ''}`;
    const body = m.body;
    if (body && body.type === 'document' && body.exportId) {
      li.append(`${body.document.caption}\n`);
      const icon = document.createElement('span');
      icon.setAttribute('aria-hidden', 'true');
      icon.textContent = '📎 ';
      li.append(icon);
      if (archived) {
        li.append(`${body.document.filename} (erased)`);
      } else {
        const a = document.createElement('a');
        a.href = `/sandbox/exports/${encodeURIComponent(body.exportId)}?waId=${encodeURIComponent(waId)}`;
        // Named exactly as the file it saves (the name WhatsApp shows, and the server's too).
        a.download = body.document.filename;
        a.textContent = body.document.filename;
        li.append(a);
      }
    } else {
      li.append(body && body.interactive ? body.interactive.body.text : body && body.text ? body.text.body : m.text);
    }
    const acts = archived ? [] : actionsFor(body);
    if (acts.length) {
      const div = document.createElement('div');
      div.className = 'actions';
      for (const a of acts) {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = a.title;
        b.addEventListener('click', () => send({ buttonId: a.id, title: a.title, reply: a.reply }));
        div.append(b);
      }
      li.append(div);
    }
    li.append(meta(m.at, m.status));
    return li;
  }

  function noteItem(className, strong, rest) {
    const li = document.createElement('li');
    li.className = `note ${className}`;
    const b = document.createElement('strong');
    b.textContent = strong;
    li.append(b, ` ${rest}`);
    return li;
  }

  /** What the thread shows, one entry per line: a key (unchanged: the line is left alone) and how to draw it. */
  function entriesOf(waId, data) {
    const entries = [];
    const last = known.get(waId);
    const shown = data.erased ? (last ? last.messages : []) : data.messages;
    const quiet = shown.findLast((m) => m.quiet);
    for (const m of shown) {
      entries.push({ key: `m ${data.erased ? 'archived' : ''} ${JSON.stringify(m)}`, build: () => messageItem(waId, m, Boolean(data.erased)) });
      // Explained once, under the latest free text the bot let pass.
      if (m === quiet && !data.erased) {
        entries.push({
          key: `quiet ${m.id}`,
          build: () =>
            noteItem(
              'quiet',
              'No reply: the bot hints once a day.',
              'It answers free text with a hint only once every 24 hours; a keyword such as HELP or STOP always gets an answer.',
            ),
        });
      }
    }
    if (data.erased) {
      const e = data.erased;
      entries.push({
        key: `erased ${shown.length}`,
        build: () =>
          noteItem(
            'erased',
            'Your data was erased.',
            shown.length ? 'The messages above are only what this page still shows: the bot no longer has them.' : '',
          ),
      });
      entries.push({
        key: `confirmation ${JSON.stringify(e)}`,
        build: () => {
          const li = document.createElement('li');
          li.className = 'msg out confirmation';
          li.append(e.text, meta(e.at, null));
          return li;
        },
      });
    }
    return entries;
  }

  // The key each line of the thread was drawn from.
  const drawn = new WeakMap();

  /** Redraws only the lines that changed: the rest keep their place, their focus, and are not announced again. */
  function show(entries) {
    let changed = false;
    entries.forEach((e, i) => {
      const at = thread.children[i];
      if (at && drawn.get(at) === e.key) return;
      const li = e.build();
      drawn.set(li, e.key);
      if (at) at.replaceWith(li);
      else thread.append(li);
      changed = true;
    });
    while (thread.children.length > entries.length) {
      thread.lastElementChild.remove();
      changed = true;
    }
    if (changed) scroller.scrollTop = scroller.scrollHeight;
  }

  function render(waId, data) {
    const last = known.get(waId);
    // Gone without a confirmation yet (the erasure is still running): keep what was shown.
    if (!data.erased && !data.messages.length && last && last.messages.length) return;
    if (!data.erased) {
      const v = { seal: data.seal || (last && last.seal), locale: data.locale || (last && last.locale), messages: data.messages };
      known.set(waId, v);
      keep(waId, v);
    }
    setText($('consent'), data.erased ? 'erased' : data.consent || '—');
    setText($('locale'), data.locale || '—');
    followName(data.name);
    show(entriesOf(waId, data));
  }

  // Polls can cross: an answer older than one already drawn is dropped.
  let asked = 0;
  let drawnUpTo = 0;
  async function refresh() {
    const waId = current;
    if (!waId) return;
    const n = ++asked;
    const q = new URLSearchParams({ waId });
    if (!known.has(waId) && kept(waId)) known.set(waId, kept(waId));
    const last = known.get(waId);
    if (last && last.seal) q.set('seal', last.seal);
    if (last && last.locale) q.set('locale', last.locale);
    let data;
    try {
      const r = await fetch(`/sandbox/api/conversation?${q}`);
      if (!r.ok) return;
      data = await r.json();
    } catch {
      return; // the next poll asks again
    }
    if (n < drawnUpTo || waId !== current) return;
    drawnUpTo = n;
    render(waId, data);
  }

  $('compose').addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = textEl.value.trim();
    if (!text) return;
    // The box is emptied only once the message is taken (and only if nothing new was typed meanwhile).
    if ((await send({ text })) && textEl.value.trim() === text) textEl.value = '';
  });
  $('who').addEventListener('submit', (e) => {
    e.preventDefault();
    pickNumber();
  });
  numberEl.addEventListener('change', () => pickNumber());
  numberEl.addEventListener('input', () => {
    // An error goes as soon as the number is right; it is shown only once the field is left.
    if (numberEl.getAttribute('aria-invalid') === 'true' && digitsOf(numberEl.value)) numberError('');
  });
  nameEl.addEventListener('input', () => {
    if (!nameEl.readOnly) nameDraft = nameEl.value;
  });
  for (const chip of document.querySelectorAll('.chip')) {
    chip.addEventListener('click', () => {
      textEl.value = chip.dataset.text;
      sendError('');
      textEl.focus();
    });
  }
  pickNumber();
  setInterval(refresh, 1000);
})();
