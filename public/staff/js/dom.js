// Element helpers. Everything the people we serve wrote is rendered with textContent, never as HTML.
import { CONSENT, TYPE_LABEL, daysText, fmtDate, urgent } from './format.js';

export const $ = (id) => document.getElementById(id);

/** el('span', { class: 'x', text: 'y' }, ...children) — text only through textContent. */
export function el(tag, props = {}, ...children) {
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

export const badge = (text, cls, title) => el('span', { class: `badge ${cls}`, text, title });
export const consentBadge = (c) => {
  const k = CONSENT[c] || CONSENT.none;
  return badge(k.text, k.cls, 'Marketing consent');
};
export const requestBadge = (r) =>
  badge(
    `${TYPE_LABEL[r.type] || r.type} · ${daysText(r.daysLeft)}`,
    urgent(r.daysLeft) ? 'urgent' : 'info',
    `Open ${TYPE_LABEL[r.type] || r.type} request, due ${fmtDate(r.dueAt)}`,
  );

let toastTimer;
/** What just happened, in the status bar at the foot of the console (it never covers a control). */
export function toast(text, kind = 'info') {
  const t = $('toast');
  t.textContent = text;
  t.className = `toast${kind === 'error' ? ' error' : ''}`;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), kind === 'error' ? 12000 : 8000);
}

/** Each cell names its column (data-label), so a table reflows into one card per row on a phone. */
export function labelCells(tbody) {
  const heads = [...tbody.closest('table').querySelectorAll('thead th')].map((th) => th.textContent.trim());
  for (const tr of tbody.rows) [...tr.cells].forEach((td, i) => td.setAttribute('data-label', heads[i] || ''));
}
