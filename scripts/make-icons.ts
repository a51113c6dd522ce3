// `npm run build:icons`: rasterizes the one icon source, assets/icon.svg, into every size in
// scripts/icon-sizes.ts. Uses rsvg-convert (Debian/Ubuntu: librsvg2-bin; macOS: brew install
// librsvg); the release workflow makes the icons once on Linux and hands them to every OS's job.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ICON_DIR, ICON_OUTPUTS } from './icon-sizes.ts';

const source = 'assets/icon.svg';
for (const { file, size } of ICON_OUTPUTS) {
  const out = path.join(ICON_DIR, file);
  mkdirSync(path.dirname(out), { recursive: true });
  const run = spawnSync(
    'rsvg-convert',
    ['--width', String(size), '--height', String(size), '--keep-aspect-ratio', source, '--output', out],
    { stdio: 'inherit' },
  );
  if (run.error || run.status !== 0) {
    console.error(`rsvg-convert failed for ${out}${run.error ? `: ${run.error.message}` : ''} (install librsvg2-bin or librsvg)`);
    process.exit(1);
  }
}
console.log(`built ${ICON_OUTPUTS.length} icons in ${ICON_DIR} from ${source}`);
