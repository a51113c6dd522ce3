import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { OpenKeystoreOptions } from '../../../main/keys/index.ts';

const script = resolve(import.meta.dirname, 'keystore-child.ts');

/** Runs keystore-child.ts in a new Node process and parses the JSON line it prints. */
export async function runChild(
  command: 'info' | 'peer-id' | 'modules' | 'delete',
  options: OpenKeystoreOptions,
  env: NodeJS.ProcessEnv = process.env,
  fingerprint = '',
): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [script, command, JSON.stringify(options), fingerprint], {
    env,
    timeout: 30_000,
  });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as Record<string, unknown>;
}
