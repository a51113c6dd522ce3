/**
 * What a message says, read by this computer from the bytes that are signed — not the label the
 * requester attached, which could say anything. Valid UTF-8 is shown as text, with every character
 * that could hide, reorder or disguise what is read made visible as ⟨U+XXXX⟩: controls (but line
 * feed and tab), format characters, line and paragraph separators, and spaces other than U+0020
 * (preload/untrusted-text.ts, shared with every other untrusted text). Anything else is shown as
 * hex, saying it is not text.
 */
import { hex as hexCodec } from '@scure/base';
import { markHidden } from '../../../preload/untrusted-text.ts';

export type MessageText =
  /** `marked`: the number of characters made visible as ⟨U+XXXX⟩. */
  { kind: 'text'; text: string; marked: number } | { kind: 'binary'; hex: string };

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
  return { kind: 'text', ...markHidden(decoded) };
}
