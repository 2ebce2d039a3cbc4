// Labels and dates as the console shows them. Dates use the browser's locale and time zone.

export const TYPE_LABEL = { opt_out: 'Opt-out', opt_in: 'Opt-in', access: 'Access', erasure: 'Erasure' };
export const CONSENT = {
  opted_in: { text: 'Opted in', cls: 'ok' },
  opted_out: { text: 'Opted out', cls: 'bad' },
  none: { text: 'No consent', cls: 'none' },
};
export const STATE_CLS = { open: 'info', done: 'ok', cancelled: 'none', expired: 'warn' };
export const STATE_LABEL = { open: 'Open', done: 'Done', cancelled: 'Cancelled', expired: 'Expired — not confirmed' };
export const CHANNEL_LABEL = { chat: 'WhatsApp chat', staff: 'Staff', api: 'Integration API', meta: 'Meta opt-out signal' };

/** What the bot understood a message as, in words (the server's action names: src/chat/decide.ts). */
export const INTENT_LABEL = {
  opt_out: 'Opt-out',
  opt_in: 'Opt-in',
  help: 'Asked for help',
  my_data: 'Asked for their data',
  delete: 'Asked for erasure',
  confirm_erasure: 'Confirmed the erasure',
  cancel_erasure: 'Cancelled the erasure',
  stale_erasure_answer: 'Answered an old erasure question',
  status: 'Asked for their status',
  language_ask: 'Asked to change language',
  set_language: 'Chose a language',
  ask_opt_out: 'Maybe an opt-out (asked to confirm)',
  decline_opt_out: 'Said no to opting out',
  reask: 'Answer unclear (asked again)',
  unknown: 'Not understood: for a human',
  none: 'No action',
};

/** Staff actions in the audit log, in words (src/staff/conversations.ts, accounts.ts). */
export const ACTION_LABEL = {
  reveal: 'Revealed a number',
  export: 'Exported data',
  reply: 'Replied',
  pause: 'Paused the bot',
  resume: 'Resumed the bot',
  opt_out: 'Recorded an opt-out',
  dismiss: 'Marked as handled',
  close_request: 'Closed a request',
  erase: 'Erased on a documented request',
  login: 'Signed in',
  login_failed: 'Sign-in failed',
  logout: 'Signed out',
  staff_created: 'Added a staff account',
  staff_updated: 'Changed a staff account',
  opt_in_link_created: 'Made an opt-in link',
};

/** "1 message", "2 messages": the console's own counts, in English. */
export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

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
