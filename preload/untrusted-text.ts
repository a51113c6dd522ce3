/**
 * Text another party wrote (a request's description and labels, a co-signer's reason), made safe to
 * show: every character that changes how the rest of the text reads without being seen itself is
 * replaced by a visible ⟨U+XXXX⟩. Bidi controls could make "pay 1 BTC to Bob" read as something
 * else (U+202E reverses what follows), control characters and invisible format characters could
 * hide or fake parts of it. Line breaks and tabs stay: descriptions may have several lines.
 * Pure and shared: the renderer and the main process (notifications) show the same text.
 */

// C0 controls but tab and line feed, DEL and C1; bidi embeddings, overrides, isolates and marks
// (U+061C, U+200E-F, U+202A-E, U+2066-9); invisible characters (zero width space U+200B, word
// joiner U+2060, BOM U+FEFF, soft hyphen U+00AD, invisible operators U+2061-4, U+180E); line and
// paragraph separators (U+2028-9); tag characters (U+E0000-7F), which hide text in plain sight.
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u{e0000}-\u{e007f}]/gu;

function visible(char: string): string {
  return `⟨U+${(char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}⟩`;
}

/** `text` with every bidi control, control and invisible character shown as ⟨U+XXXX⟩. */
export function showUntrustedText(text: string): string {
  return text.replace(HIDDEN, visible);
}
