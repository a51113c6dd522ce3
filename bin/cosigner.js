#!/usr/bin/env node
// The `cosigner` command. The sources are TypeScript run by Node 22's type stripping.
import '../main/cli.ts';
