import { describe, expect, test } from 'vitest';
import { markHidden as visibleText } from '../../../preload/untrusted-text.ts';
import { messageText } from '../../../renderer/src/lib/message-text.ts';

const hexOf = (bytes: Uint8Array | string) =>
  Buffer.from(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes).toString('hex');

describe('the text a message shows, read from its bytes', () => {
  test('plain text, lines and tabs, and any script or emoji are shown as they are', () => {
    for (const text of ['pay the plumber, invoice 77', 'line one\nline two\tTAB', 'öäüéàè 测试文本 😄', 'שלום مرحبا', '']) {
      expect(messageText(hexOf(text))).toEqual({ kind: 'text', text, marked: 0 });
    }
  });

  test('bidi overrides and isolates, invisible and control characters are made visible', () => {
    // A right-to-left override makes a screen show what follows reversed: here "live" for "evil".
    expect(messageText(hexOf('Pay \u202Eevil\u202C now'))).toEqual({ kind: 'text', text: 'Pay ⟨U+202E⟩evil⟨U+202C⟩ now', marked: 2 });
    expect(messageText(hexOf('a\u2066b\u2069c\u200Fd\u061Ce'))).toMatchObject({ text: 'a⟨U+2066⟩b⟨U+2069⟩c⟨U+200F⟩d⟨U+061C⟩e', marked: 4 });
    expect(messageText(hexOf('zero\u200Bwidth\u2060joiner\u00ADsoft'))).toMatchObject({
      text: 'zero⟨U+200B⟩width⟨U+2060⟩joiner⟨U+00AD⟩soft',
    });
    expect(messageText(hexOf('bell\u0007 esc\u001B[2J del\u007F nel\u0085 cr\r'))).toMatchObject({
      text: 'bell⟨U+0007⟩ esc⟨U+001B⟩[2J del⟨U+007F⟩ nel⟨U+0085⟩ cr⟨U+000D⟩',
      marked: 5,
    });
    expect(messageText(hexOf('nul\u0000'))).toMatchObject({ text: 'nul⟨U+0000⟩' });
    expect(messageText(hexOf('ls\u2028ps\u2029nbsp\u00A0ideo\u3000'))).toMatchObject({
      text: 'ls⟨U+2028⟩ps⟨U+2029⟩nbsp⟨U+00A0⟩ideo⟨U+3000⟩',
      marked: 4,
    });
    // Tag characters (invisible, astral) are shown by their code point, not as two halves.
    expect(messageText(hexOf('x\u{E0041}'))).toMatchObject({ text: 'x⟨U+E0041⟩', marked: 1 });
  });

  test('a label that came as text is shown with the same characters made visible', () => {
    expect(visibleText('confirm \u202Eenilno\u202C')).toEqual({ text: 'confirm ⟨U+202E⟩enilno⟨U+202C⟩', marked: 2 });
  });

  test('a leading byte-order mark is kept and shown, not silently dropped', () => {
    expect(messageText(hexOf(Uint8Array.of(0xef, 0xbb, 0xbf, 0x68, 0x69)))).toEqual({ kind: 'text', text: '⟨U+FEFF⟩hi', marked: 1 });
  });

  test('bytes that are not valid UTF-8 are shown as hex, never as text with replacement characters', () => {
    for (const bytes of [
      Uint8Array.of(0xc3, 0x28), // a broken two-byte sequence
      Uint8Array.of(0xed, 0xa0, 0x80), // an encoded surrogate
      Uint8Array.of(0xc0, 0xaf), // an overlong "/"
      Uint8Array.of(0x68, 0x69, 0xff), // text with one stray byte
      new Uint8Array(32).fill(0xab), // a 32-byte digest
    ]) {
      expect(messageText(hexOf(bytes))).toEqual({ kind: 'binary', hex: hexOf(bytes) });
    }
  });
});
