import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadBip327, vectorsDir } from './bip327.ts';

// Every case of these files is its own named test in bip327-*.test.ts; this pins the total so that a
// vector file that grows, shrinks or goes missing is noticed.
it('the eight BIP327 vector files hold 56 cases in all', () => {
  const files = readdirSync(path.join(vectorsDir, 'bip327')).filter((f) => f.endsWith('_vectors.json'));
  expect(files).toHaveLength(8);
  let count = 0;
  for (const file of files) {
    const data = loadBip327<Record<string, unknown>>(file.replace('_vectors.json', ''));
    const lists = Object.entries(data).filter(([name]) => name.endsWith('test_cases'));
    // key_sort has no case list: its one case is the whole file.
    count += lists.length === 0 ? 1 : lists.reduce((n, [, list]) => n + (list as unknown[]).length, 0);
  }
  expect(count).toBe(56);
});
