// Labels and dates as the console shows them. Dates use the browser's locale and time zone.

export const TYPE_LABEL = { opt_out: 'Opt-out', opt_in: 'Opt-in', access: 'Access', erasure: 'Erasure' };
export const CONSENT = {
  opted_in: { text: 'Opted in', cls: 'ok' },
  opted_out: { text: 'Opted out', cls: 'bad' },
  none: { text: 'No consent', cls: 'none' },
};
export const STATE_CLS = { open: 'info', done: 'ok', cancelled: 'none', expired: 'warn' };

const dtf = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const tf = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const df = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const dayf = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const stampf = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });

export const toDate = (v) => (v ? new Date(v) : null);
export const fmtDateTime = (v) => (v ? dtf.format(toDate(v)) : '—');
export const fmtTime = (v) => (v ? tf.format(toDate(v)) : '');
export const fmtDate = (v) => (v ? df.format(toDate(v)) : '—');
export const fmtDay = (v) => dayf.format(toDate(v));
const sameDay = (a, b) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** A short stamp for the list: the time for today, else day and time. */
export function fmtStamp(v) {
  if (!v) return '';
  const d = toDate(v);
  return sameDay(d, new Date()) ? tf.format(d) : stampf.format(d);
}

/** daysLeft from the API is ceil((due - now) / day): anything ≤ 0 is past due. */
export function daysText(n) {
  if (n === null || n === undefined) return '—';
  if (n <= 0) return n < 0 ? `overdue by ${-n} day${n === -1 ? '' : 's'}` : 'overdue';
  return `${n} day${n === 1 ? '' : 's'} left`;
}
export const urgent = (n) => n !== null && n !== undefined && n <= 3;
