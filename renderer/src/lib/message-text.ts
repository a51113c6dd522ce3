/**
 * What a message says, read by this computer from the bytes that are signed — not the label the
 * requester attached, which could say anything. Valid UTF-8 is shown as text, with every character
 * that could hide, reorder or disguise what is read made visible as ⟨U+XXXX⟩: controls (but line
 * feed and tab), format characters (bidi overrides and isolates, zero-width characters, the byte-order
 * mark), line and paragraph separators, and spaces other than U+0020. Anything else is shown as hex,
 * saying it is not text.
 */
import { hex as hexCodec } from '@scure/base';

export type MessageText =
  /** `marked`: the number of characters made visible as ⟨U+XXXX⟩. */
  | { kind: 'text'; text: string; marked: number }
  | { kind: 'binary'; hex: string };

// Cc: C0 and C1 controls and DEL; Cf: bidi embeddings, overrides and isolates (U+202A..U+202E,
// U+2066..U+2069), marks (U+200E, U+200F, U+061C), zero-width characters, the BOM, soft hyphen,
// tag characters; Zl, Zp: separators that break lines; Zs other than the space: look-alike spaces.
const HIDDEN = /(?![\n\t])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|(?! )\p{Zs}/gu;

/** `⟨U+202E⟩` for U+202E. */
export function visibleCodePoint(char: string): string {
  return `⟨U+${(char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}⟩`;
}

/** `text` with every hidden or disguising character made visible; also for text that came as text
 *  (a requester's label), which could carry the same tricks. */
export function visibleText(text: string): { text: string; marked: number } {
  let marked = 0;
  const shown = text.replace(HIDDEN, (char) => {
    marked += 1;
    return visibleCodePoint(char);
  });
  return { text: shown, marked };
}

/** The text of `hex` (the exact bytes a message signs) as this computer shows it. */
export function messageText(hex: string): MessageText {
  let decoded: string;
  try {
    // fatal: invalid UTF-8 is not shown as text with replacement characters; ignoreBOM: a leading
    // byte-order mark is kept (and shown), not silently dropped.
    decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(hexCodec.decode(hex));
  } catch {
    return { kind: 'binary', hex };
  }
  return { kind: 'text', ...visibleText(decoded) };
}
