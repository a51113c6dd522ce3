// `npm start`: the desktop app where the Electron binary exists, else the headless mode with a
// message saying why. Extra arguments go to the headless CLI (e.g. `npm start -- --data-dir x`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function electronBinary(): string | undefined {
  try {
    const binary = require('electron') as unknown as string;
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

function run(cmd: string, args: string[]): void {
  const child = spawn(cmd, args, { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
}

const binary = electronBinary();
if (binary) {
  if (spawnSync(npm, ['run', 'build'], { stdio: 'inherit' }).status !== 0) process.exit(1);
  run(binary, ['.']);
} else {
  console.log('No Electron binary here (installed with ELECTRON_SKIP_BINARY_DOWNLOAD?): starting the headless mode.');
  for (const step of ['build:renderer', 'build:daemon']) {
    if (spawnSync(npm, ['run', step], { stdio: 'inherit' }).status !== 0) process.exit(1);
  }
  run(process.execPath, ['dist/cli.mjs', 'serve', ...process.argv.slice(2)]);
}
