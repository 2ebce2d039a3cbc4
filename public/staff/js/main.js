// The staff console: a vanilla single page over /staff/api, as ES modules without a bundler (the
// browser loads them from /staff/static/js, which the Content-Security-Policy's 'self' allows).
// Module scripts run once the document is parsed, so every element is there when the bind…()
// functions below attach their listeners.
import { bindActions } from './actions.js';
import { api } from './api.js';
import { bindAudit, loadAudit } from './audit.js';
import { bindConversations, refreshList } from './conversations.js';
import { $ } from './dom.js';
import { connectEvents } from './live.js';
import { bindLogin } from './login.js';
import { loadRequests, bindRequests } from './requests.js';
import { showLogin } from './session.js';
import { bindStaffAdmin, fillRoleChoices, loadOptInLinks, loadStaff } from './staffAdmin.js';
import { can, state } from './state.js';
import { openConversation } from './thread.js';

/**
 * The console for the account /me describes: its role, and the permissions that role holds in the
 * server's table (src/staff/roles.ts). What is shown follows that list, never the role's name.
 */
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
  if (can('manage_staff')) fillRoleChoices();
  $('booting').hidden = true;
  $('login-view').hidden = true;
  $('console-view').hidden = false;
  connectEvents();
  route();
  refreshList();
  // After signing in the keyboard starts in the content, at the view's heading (not on the page's body).
  const heading = document.querySelector(`#view-${state.view} h1`);
  if (heading && !state.openId) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
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
    const conversations = $('view-conversations');
    if (!id) conversations.classList.remove('showing-thread');
    else if (decodeURIComponent(id) !== state.openId) openConversation(decodeURIComponent(id));
    else {
      conversations.classList.add('showing-thread');
      $('thread-title').focus();
    }
  } else if (v === 'requests') loadRequests();
  else if (v === 'audit') loadAudit();
  else if (v === 'staff') {
    loadStaff();
    loadOptInLinks();
  }
}

/** /me first, on load and after a sign-in; the sign-in form only on 401. */
async function boot() {
  try {
    const { data } = await api('GET', '/staff/api/me');
    start(data);
  } catch (x) {
    showLogin(x.status === 401 ? null : 'The console could not reach the server; sign in to retry.');
  }
}

bindLogin(boot);
bindConversations();
bindActions();
bindRequests();
bindAudit();
bindStaffAdmin();
window.addEventListener('hashchange', route);
boot();
