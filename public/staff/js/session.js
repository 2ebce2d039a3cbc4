// Which of the two views shows: the sign-in form, or the console. Ending a session clears everything
// the console held about the people we serve.
import { $ } from './dom.js';
import { state } from './state.js';

export function showLogin(notice) {
  $('booting').hidden = true;
  $('console-view').hidden = true;
  $('login-view').hidden = false;
  $('login-notice').hidden = !notice;
  $('login-notice').textContent = notice || '';
  $('login-email').focus();
}

export function signedOut(notice) {
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
