/**
 * The backup check: the user types the whole phrase back from paper, word by word. Every word is
 * compared here first, so that all the wrong ones can be pointed out at once; the back end then
 * checks the phrase again and stores the key only if it matches.
 */

/** Case, surrounding spaces and Unicode form do not matter; the word does. */
export function normalizeWord(word: string): string {
  return word.normalize('NFKD').trim().toLowerCase();
}

/** Positions (1-based) where what was typed is not the word shown. */
export function mismatchedPositions(typed: readonly string[], words: readonly string[]): number[] {
  return words.flatMap((word, i) => {
    const t = normalizeWord(typed[i] ?? '');
    return t !== '' && t === normalizeWord(word) ? [] : [i + 1];
  });
}

/** The phrase as the user typed it, for the back end to check. */
export function typedPhrase(typed: readonly string[]): string {
  return typed.map(normalizeWord).join(' ');
}
