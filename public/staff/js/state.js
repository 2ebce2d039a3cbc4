// The console's one shared state. Modules read and write it; only main.js and session.js reset it.

export const state = {
  me: null, // GET /staff/api/me: { staff, csrf, business, permissions, roles }
  csrf: null,
  view: 'conversations',
  conversations: [],
  openId: null,
  open: null, // the open conversation, as the API returned it
  revealed: null, // { id, number } — the full number, for the open conversation only
  rendered: new Map(), // message id → <li>, for the open thread
  events: null,
  reasonFor: null, // 'reveal' | 'export', while the reason dialog is open
};

/**
 * Whether the signed-in account holds a permission, as GET /staff/api/me listed it (the server's
 * table in src/staff/roles.ts). The server checks every call; this only hides what it would refuse.
 */
export const can = (action) => (state.me?.permissions ?? []).includes(action);
