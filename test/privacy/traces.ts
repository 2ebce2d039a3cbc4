/**
 * Looks for a phone number the way an outsider would: in the clear, and inside every token of 16
 * or more characters decoded as base64 and as base64url (a WhatsApp message id is base64 of a
 * structure that holds the sender's number). Returns where it was found.
 */
export function traceOf(number: string, text: string): string | null {
  const digits = number.replace(/\D/g, '');
  if (text.includes(digits)) return `in the clear near "${text.slice(Math.max(0, text.indexOf(digits) - 60), text.indexOf(digits) + 20)}"`;
  for (const token of text.match(/[A-Za-z0-9+/_=-]{16,}/g) ?? []) {
    for (const enc of ['base64', 'base64url'] as const) {
      // Try every alignment: a token may start mid-quantum when cut out of a longer string.
      for (let shift = 0; shift < 4; shift++) {
        const decoded = Buffer.from(token.slice(shift), enc).toString('latin1');
        if (decoded.includes(digits)) return `${enc} token "${token.slice(0, 40)}…"`;
      }
    }
  }
  return null;
}
