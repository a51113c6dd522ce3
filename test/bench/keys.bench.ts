/**
 * What the keystore costs a user: opening the key file (one scrypt at the default cost, then the
 * AEAD), writing it, and deriving a key from a backup phrase. The default scrypt cost is the one
 * figure here that a user waits for at every start of a file-keystore node.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSecretBackend } from '../../main/keys/file-backend.ts';
import { mnemonicFromEntropy, secretKeyFromMnemonic } from '../../main/keys/key-derivation.ts';
import { DEFAULT_SCRYPT_PARAMS, deriveFileKeys, type ScryptParams } from '../../main/keys/key-file-format.ts';

const now = () => performance.now();

async function time(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = now();
  for (let i = 0; i < runs; i++) await fn();
  return (now() - start) / runs;
}

export default async function bench(): Promise<void> {
  const salt = crypto.getRandomValues(new Uint8Array(32));
  const kdf: Record<string, { 'ms per derivation': number; 'memory MiB': number }> = {};
  for (const params of [{ log2N: 10, r: 8, p: 1 }, { log2N: 14, r: 8, p: 1 }, DEFAULT_SCRYPT_PARAMS] as ScryptParams[]) {
    const runs = params.log2N >= 17 ? 2 : 5;
    kdf[`scrypt N=2^${params.log2N} r=${params.r} p=${params.p}`] = {
      'ms per derivation': Math.round(await time(runs, () => deriveFileKeys('bench passphrase', salt, params))),
      'memory MiB': (128 * params.r * 2 ** params.log2N) / 2 ** 20,
    };
  }
  console.table(kdf);

  const dir = await mkdtemp(join(tmpdir(), 'cosigner-bench-'));
  try {
    const path = join(dir, 'bench.keys');
    const value = crypto.getRandomValues(new Uint8Array(34));
    await new FileSecretBackend({ path, passphrase: 'bench passphrase' }).set('bench/signer-key', value);
    const warm = new FileSecretBackend({ path, passphrase: 'bench passphrase' });
    await warm.get('bench/signer-key');
    const ops = {
      'open with default cost (new process: scrypt + AEAD)': await time(2, () =>
        new FileSecretBackend({ path, passphrase: 'bench passphrase' }).get('bench/signer-key'),
      ),
      'read again (derived key cached)': await time(20, () => warm.get('bench/signer-key')),
      'rewrite (cached key, fsync + rename)': await time(20, () => warm.set('bench/peer-identity', value)),
    };
    console.table(Object.fromEntries(Object.entries(ops).map(([k, ms]) => [k, { ms: Math.round(ms * 10) / 10 }])));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const mnemonic = mnemonicFromEntropy(crypto.getRandomValues(new Uint8Array(32)));
  console.table({
    'mnemonic → signer key (PBKDF2 2048 + tagged hash)': {
      ms: Math.round((await time(20, () => secretKeyFromMnemonic(mnemonic))) * 10) / 10,
    },
  });
}
