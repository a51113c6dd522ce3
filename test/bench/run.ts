/**
 * Runs every test/bench/*.bench.ts (or only those named on the command line, e.g. `musig`), one
 * after the other, each under a heading. A bench file's default export prints its own tables.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = import.meta.dirname;
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.slice(0, -'.bench.ts'.length)))
  .sort();
if (files.length === 0) {
  console.error(`no bench file matches ${wanted.join(', ') || '*'} in ${dir}`);
  process.exit(1);
}
for (const file of files) {
  console.log(`\n== ${file} ==`);
  const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { default: () => Promise<void> };
  await mod.default();
}
