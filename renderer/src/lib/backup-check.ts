/**
 * The backup check: the user types back a few words chosen at random, by position, from what
 * they wrote down. Random positions (not always the same ones) mean every word has to be legible.
 */

/** `count` distinct positions in 1..total, ascending. `random(n)` returns an integer in [0, n). */
export function chooseCheckPositions(total: number, count: number, random: (n: number) => number = secureRandomInt): number[] {
  const all = Array.from({ length: total }, (_, i) => i + 1);
  // Partial Fisher-Yates: the first `count` slots become a uniform sample.
  for (let i = 0; i < Math.min(count, total); i++) {
    const j = i + random(total - i);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, count).sort((a, b) => a - b);
}

/** Case, spacing and Unicode form do not matter; the word does. */
export function wordsMatch(typed: string, word: string): boolean {
  const norm = (s: string) => s.normalize('NFKD').trim().toLowerCase();
  return norm(typed) !== '' && norm(typed) === norm(word);
}

function secureRandomInt(n: number): number {
  // Rejection sampling: no modulo bias.
  const limit = Math.floor(0x1_0000_0000 / n) * n;
  const buf = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(buf);
    if (buf[0]! < limit) return buf[0]! % n;
  }
}
