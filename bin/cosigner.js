#!/usr/bin/env node
// The `cosigner` command: the bundled daemon (npm run build:daemon), else the TypeScript sources
// run by Node 22's type stripping.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/cli.mjs', import.meta.url);
await import(existsSync(bundle) ? bundle.href : new URL('../main/cli.ts', import.meta.url).href);
