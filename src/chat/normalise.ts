// Zero-width and other format characters (ZWSP, ZWJ, bidi marks, BOM, tag characters) and variation
// selectors: invisible, so a subscriber never meant them, but they would split "s\u200Btop" into noise.
const INVISIBLE = /[\p{Cf}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}]/gu;

// Accents and other combining marks, removed after NFD so "ARRÊT", "arret" and "arrét" all compare equal.
// Enclosing marks (the keycap of "1️⃣") go too. This form is only ever compared, never shown.
const COMBINING_MARKS = /\p{M}/gu;

// Punctuation (apostrophes and hyphens included), symbols, emoji and control characters separate words
// but carry no meaning for a command: "Opt-Out", "STOP 🛑" and "Stop." become plain words.
const SEPARATORS = /[\p{P}\p{S}\p{Extended_Pictographic}\p{Cc}]/gu;

const WHITESPACE = /\s+/gu;

/**
 * The canonical form of a chat message or keyword phrase for matching: NFKC (full-width "ＳＴＯＰ" is
 * "STOP"), no invisible characters, lower case, "ß" as "ss", no accents, punctuation/symbols/emoji as
 * spaces, single spaces, trimmed. Letters and digits of every script are kept. Packs and incoming
 * messages both go through this function, so the two always agree.
 */
export function normalise(text: string): string {
  return (
    text
      .normalize('NFKC')
      .replace(INVISIBLE, '')
      .toLowerCase()
      .replace(/ß/gu, 'ss')
      .normalize('NFD')
      .replace(COMBINING_MARKS, '')
      .replace(SEPARATORS, ' ')
      .replace(WHITESPACE, ' ')
      .trim()
      // Recompose what NFD split apart without marks (Hangul syllables, for instance).
      .normalize('NFC')
  );
}
