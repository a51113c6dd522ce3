/**
 * Text another party wrote or chose (a request's description and labels, the bytes of a message
 * read as UTF-8, a co-signer's reason), made safe to show: every character that changes how the
 * rest of the text reads without being seen itself is replaced by a visible ⟨U+XXXX⟩. Bidi controls
 * could make "pay 1 BTC to Bob" read as something else (U+202E reverses what follows), control and
 * invisible format characters could hide or fake parts of it, look-alike spaces and line separators
 * disguise it. Line feeds and tabs stay (descriptions may have several lines), and so does the
 * zero-width joiner, which only joins emoji and letters into one glyph and hides nothing.
 * Pure and shared: the renderer and the main process (notifications) show the same text.
 */

// Cc: C0 and C1 controls and DEL; Cf: bidi embeddings, overrides, isolates and marks (U+061C,
// U+200E-F, U+202A-E, U+2066-9), zero-width characters, the BOM, soft hyphen, invisible operators,
// tag characters (U+E0000-7F); Zl, Zp: line and paragraph separators; Zs other than the space.
const HIDDEN = /(?![\n\t\u200d])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|(?! )\p{Zs}/gu;

/** `⟨U+202E⟩` for U+202E. */
export function visibleCodePoint(char: string): string {
  return `⟨U+${(char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}⟩`;
}

/** `text` with every hidden or disguising character shown as ⟨U+XXXX⟩, and how many there were. */
export function markHidden(text: string): { text: string; marked: number } {
  let marked = 0;
  const shown = text.replace(HIDDEN, (char) => {
    marked += 1;
    return visibleCodePoint(char);
  });
  return { text: shown, marked };
}

/** `text` with every bidi control, control and invisible character shown as ⟨U+XXXX⟩. */
export function showUntrustedText(text: string): string {
  return markHidden(text).text;
}
