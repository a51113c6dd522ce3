/**
 * Whether this file went through the Svelte compiler. The root Vitest config runs every test
 * file without it; the store tests then skip, saying where they do run.
 */
export function runesCompiled(): boolean {
  try {
    const probe = $state(1);
    return probe === 1;
  } catch {
    return false;
  }
}

export const NEEDS_SVELTE = 'the stores use Svelte runes: run with `vitest run --config renderer/vitest.config.ts`';
