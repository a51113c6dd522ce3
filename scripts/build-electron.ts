// Bundles the Electron main process and the preload script. The preload must be one CommonJS file:
// a sandboxed preload cannot load modules. keytar (native) and electron stay external.
import { build, type BuildOptions } from 'esbuild';
import { ELECTRON_EXTERNALS } from './electron-externals.ts';

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  sourcemap: false,
  logLevel: 'warning',
  external: ELECTRON_EXTERNALS,
};

await build({
  ...common,
  entryPoints: ['main/electron/main.ts'],
  outfile: 'dist/electron/main.mjs',
  format: 'esm',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
await build({ ...common, entryPoints: ['preload/index.ts'], outfile: 'dist/electron/preload.cjs', format: 'cjs' });
console.log('built dist/electron/main.mjs and dist/electron/preload.cjs');
