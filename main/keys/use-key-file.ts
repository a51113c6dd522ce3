import { existsSync } from 'node:fs';
import { CosignerError } from '../errors.ts';
import type { Random } from '../session/ports.ts';
import { FileSecretBackend } from './file-backend.ts';
import type { ScryptParams } from './key-file-format.ts';
import type { KeyManager } from './key-manager.ts';
import type { SwitchableBackend } from './switchable-backend.ts';

/**
 * A new key file's passphrase is the only thing between a stolen disk and the key: the file is
 * scrypt-hardened, but a short passphrase still falls to guessing. The first-run screen says so.
 */
export const MIN_NEW_PASSPHRASE_CHARS = 12;

export interface UseKeyFileOptions {
  backend: SwitchableBackend;
  keys: KeyManager;
  /** keyFilePath(dataDir, profile) */
  path: string;
  passphrase: string;
  scrypt?: ScryptParams;
  random?: Random;
}

/**
 * The desktop app's `keys.useFile`: unlocks the key file that exists, or, where the keychain holds
 * no key (or cannot be reached at all), switches to a new key file. A wrong passphrase leaves the
 * file locked (WRONG_PASSPHRASE); a key already in a working keychain is never hidden behind a
 * new, empty file.
 */
export async function useKeyFile(options: UseKeyFileOptions): Promise<void> {
  const { backend, keys, path, passphrase } = options;
  const exists = existsSync(path);
  if (!exists) {
    if (passphrase.length < MIN_NEW_PASSPHRASE_CHARS) {
      throw new CosignerError('INVALID_INPUT', `a new key file needs a passphrase of at least ${MIN_NEW_PASSPHRASE_CHARS} characters`);
    }
    if (backend.current === 'keychain' && (await keychainHoldsKey(keys))) {
      throw new CosignerError('KEY_EXISTS', 'the keychain already holds a signer key: keep using it');
    }
  }
  const wasKeychain = backend.current === 'keychain';
  backend.useFile(new FileSecretBackend({ path, passphrase, scrypt: options.scrypt, random: options.random }));
  try {
    // Opens (and so checks the passphrase of) an existing file now, not at the first signature.
    await keys.info();
  } catch (error) {
    if (wasKeychain) backend.restoreKeychain();
    else backend.lock();
    throw error;
  }
}

async function keychainHoldsKey(keys: KeyManager): Promise<boolean> {
  try {
    return (await keys.info()) !== null;
  } catch {
    // The keychain cannot be reached: exactly the case the key file is for.
    return false;
  }
}
