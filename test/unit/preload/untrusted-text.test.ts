import { describe, expect, it } from 'vitest';
import { showUntrustedText } from '../../../preload/untrusted-text.ts';

describe('untrusted text shown safely', () => {
  it('makes a bidi override in a description visible instead of letting it reverse the text', () => {
    // Shown raw, the override displays what follows reversed: "exe.txt" reads as "txt.exe".
    expect(showUntrustedText('Pay Bob 1 BTC\u202Eexe.txt')).toBe('Pay Bob 1 BTC⟨U+202E⟩exe.txt');
    for (const c of ['\u202A', '\u202B', '\u202C', '\u202D', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F', '\u061C']) {
      expect(showUntrustedText(`a${c}b`)).toBe(`a⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩b`);
    }
  });

  it('makes control and invisible characters visible, keeping line breaks and tabs', () => {
    expect(showUntrustedText('a\u0000b\rc\u001bd\u007fe\u0085f')).toBe('a⟨U+0000⟩b⟨U+000D⟩c⟨U+001B⟩d⟨U+007F⟩e⟨U+0085⟩f');
    expect(showUntrustedText('x\u200By\uFEFFz\u2060w\u00ADv\u2028u')).toBe('x⟨U+200B⟩y⟨U+FEFF⟩z⟨U+2060⟩w⟨U+00AD⟩v⟨U+2028⟩u');
    expect(showUntrustedText('tag\u{E0041}s')).toBe('tag⟨U+E0041⟩s');
    expect(showUntrustedText('line one\nline two\tend')).toBe('line one\nline two\tend');
  });

  it('leaves ordinary text of any script alone, emoji sequences included', () => {
    for (const text of ['Rent, March', 'Ünïcödé ✓', 'شراء', '日本語', '👨‍👩‍👧 family', '']) expect(showUntrustedText(text)).toBe(text);
  });
});
