// The sign-in form and the log-out button. After a sign-in the console starts from GET /staff/api/me,
// like a reload does, so the role and its permissions always come from that one answer.
import { api } from './api.js';
import { $ } from './dom.js';
import { fmtDateTime } from './format.js';
import { signedOut } from './session.js';

/** `onSignedIn` is main.js's boot: it asks /me and starts the console. */
export function bindLogin(onSignedIn) {
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
      await api('POST', '/staff/api/login', { email, password });
      $('login-password').value = '';
    } catch (x) {
      if (x.status === 401) err.textContent = 'Wrong email or password.';
      else if (x.status === 423) {
        const until = x.body && x.body.lockedUntil ? fmtDateTime(x.body.lockedUntil) : null;
        err.textContent = until
          ? `Too many failed attempts: this account is locked until ${until}.`
          : 'Too many failed attempts: this account is locked for now.';
      } else if (x.status === 400) err.textContent = 'Enter a valid email and a password.';
      else err.textContent = 'Signing in failed. Check the connection and try again.';
      err.hidden = false;
      $('login-password').select();
      return;
    } finally {
      $('login-submit').disabled = false;
    }
    await onSignedIn();
  });

  $('logout').addEventListener('click', async () => {
    try {
      await api('POST', '/staff/api/logout', {});
    } catch {
      /* signed out either way */
    }
    signedOut('You have signed out.');
  });
}
