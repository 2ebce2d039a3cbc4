// The chat simulator: posts what you type as the subscriber, polls the conversation.
(() => {
  const $ = (id) => document.getElementById(id);
  const thread = $('thread');
  let lastRendered = '';

  const who = () => ({ waId: $('waId').value.trim(), name: $('name').value.trim() || undefined });

  async function send(payload) {
    const r = await fetch('/sandbox/api/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...who(), ...payload }),
    });
    if (!r.ok) alert((await r.json()).error || 'could not send');
    setTimeout(refresh, 150);
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

  function render(data) {
    const key = JSON.stringify(data);
    if (key === lastRendered) return;
    lastRendered = key;
    $('consent').textContent = data.consent || '—';
    $('locale').textContent = data.locale || '—';
    thread.replaceChildren(
      ...data.messages.map((m) => {
        const li = document.createElement('li');
        li.className = `msg ${m.direction}`;
        const body = m.body;
        if (body && body.type === 'document' && body.exportId) {
          li.append(document.createTextNode(`${body.document.caption}\n`));
          const a = document.createElement('a');
          a.href = `/sandbox/exports/${encodeURIComponent(body.exportId)}?waId=${encodeURIComponent(who().waId)}`;
          a.download = body.document.filename; // saved under the name WhatsApp shows
          a.textContent = `📎 ${body.document.filename}`;
          li.append(a);
        } else {
          const text = body && body.interactive ? body.interactive.body.text : body && body.text ? body.text.body : m.text;
          li.append(document.createTextNode(text));
        }
        const acts = actionsFor(body);
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
        const meta = document.createElement('span');
        meta.className = 'meta';
        meta.textContent = `${new Date(m.at).toLocaleTimeString()}${m.status ? ` · ${m.status}` : ''}`;
        li.append(meta);
        return li;
      }),
    );
    thread.scrollTop = thread.scrollHeight;
  }

  async function refresh() {
    const { waId } = who();
    if (!/^\d{6,15}$/.test(waId)) return;
    const r = await fetch(`/sandbox/api/conversation?waId=${waId}`);
    if (r.ok) render(await r.json());
  }

  $('compose').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('text').value.trim();
    if (!text) return;
    $('text').value = '';
    send({ text });
  });
  $('waId').addEventListener('change', () => {
    lastRendered = '';
    refresh();
  });
  refresh();
  setInterval(refresh, 1000);
})();
