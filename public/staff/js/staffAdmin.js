// Staff accounts: list, change a role, disable or enable, add. Shown only when /me lists the
// `manage_staff` permission; the roles offered are the ones /me names (src/staff/roles.ts).
import { act, api } from './api.js';
import { $, badge, el, toast, labelCells } from './dom.js';
import { fmtDateTime } from './format.js';
import { signedOut } from './session.js';
import { state } from './state.js';

// A new account is an agent unless the admin picks otherwise, as before roles came from /me.
const DEFAULT_ROLE = 'agent';
const roleLabel = (r) => r[0].toUpperCase() + r.slice(1);
const roleOptions = (selected) => (state.me?.roles ?? []).map((r) => el('option', { value: r, text: roleLabel(r), selected: r === selected }));

/** The role choices of the "Add an account" form, from /me. */
export function fillRoleChoices() {
  $('new-role').replaceChildren(...roleOptions(DEFAULT_ROLE));
}

export async function loadStaff() {
  try {
    const { data } = await api('GET', '/staff/api/staff');
    const rows = data.staff.map((s) => {
      const self = s.id === state.me.staff.id;
      const select = el('select', { 'aria-label': `Role of ${s.email}` }, ...roleOptions(s.role));
      const save = el('button', { type: 'button', class: 'btn small', text: 'Change role', 'aria-label': `Change role of ${s.email}` });
      save.addEventListener('click', () => patchStaff(s.email, { role: select.value }, `Role of ${s.email} is now ${select.value}.`));
      const locked = s.lockedUntil && new Date(s.lockedUntil) > new Date();
      const status = s.disabled ? badge('Disabled', 'bad') : locked ? badge(`Locked until ${fmtDateTime(s.lockedUntil)}`, 'warn') : badge('Active', 'ok');
      let toggle;
      if (self) toggle = el('span', { class: 'muted small', text: 'you' });
      else {
        toggle = el('button', {
          type: 'button',
          class: s.disabled ? 'btn small' : 'btn small danger',
          text: s.disabled ? 'Enable' : 'Disable',
          'aria-label': `${s.disabled ? 'Enable' : 'Disable'} ${s.email}`,
        });
        toggle.addEventListener('click', () =>
          patchStaff(s.email, { disabled: !s.disabled }, `${s.email} is ${s.disabled ? 'enabled' : 'disabled'}; their sessions have ended.`),
        );
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
    labelCells($('staff-rows'));
  } catch (x) {
    if (x.status !== 401) toast(`Could not load staff: ${x.message}`, 'error');
  }
}

async function patchStaff(email, change, done) {
  await act('Updating the account', async () => {
    await api('PATCH', `/staff/api/staff/${encodeURIComponent(email)}`, change);
    toast(done);
    if (email === state.me.staff.email) {
      // A change to one's own account ends one's sessions (src/staff/accounts.ts).
      signedOut('Your account changed; sign in again.');
      return;
    }
    loadStaff();
  });
}

export async function loadOptInLinks() {
  try {
    const { data } = await api('GET', '/staff/api/opt-in-links');
    if (!data.displayNumberSet)
      $('links-note').textContent = 'Set WHATSAPP_DISPLAY_NUMBER (your WhatsApp number as people see it) to make wa.me links and QR codes.';
    const items = data.links.map((l) =>
      el(
        'li',
        { class: 'card opt-in-link' },
        l.qrSvg
          ? el('img', {
              src: `data:image/svg+xml;utf8,${encodeURIComponent(l.qrSvg)}`,
              alt: `QR code of the opt-in link "${l.name}"`,
              width: '120',
              height: '120',
            })
          : el('span'),
        el(
          'div',
          {},
          el('h3', { text: l.name }),
          el('p', { class: 'muted', text: l.purpose }),
          el('p', {}, el('span', { text: 'Prefilled message: ' }), el('code', { text: l.message })),
          l.link ? el('p', {}, el('a', { href: l.link, text: l.link, rel: 'noopener', target: '_blank' })) : el('span'),
        ),
      ),
    );
    $('link-list').replaceChildren(...(items.length ? items : [el('li', { class: 'muted', text: 'No opt-in link yet.' })]));
  } catch (x) {
    if (x.status !== 401) toast(`Could not load the opt-in links: ${x.message}`, 'error');
  }
}

export function bindStaffAdmin() {
  $('link-create').addEventListener('submit', (e) => {
    e.preventDefault();
    void act('Opt-in link', async () => {
      await api('POST', '/staff/api/opt-in-links', { name: $('link-name').value.trim(), purpose: $('link-purpose').value.trim() });
      $('link-create').reset();
      toast('Opt-in link created.');
      await loadOptInLinks();
    });
  });
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
      // The reset brings back the default role (its option carries `selected`).
      $('staff-create').reset();
      loadStaff();
    } catch (x) {
      if (x.status === 401) return;
      err.textContent = x.status === 409 ? 'An account with this email exists already.' : x.message;
      err.hidden = false;
    }
  });
}
