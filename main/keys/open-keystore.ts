import { join } from 'node:path';
import { CosignerError } from '../errors.ts';
import type { Random } from '../session/ports.ts';
import { FileSecretBackend } from './file-backend.ts';
import type { ScryptParams } from './key-file-format.ts';
import { type KeyEvent, KeyManager } from './key-manager.ts';
import { KeytarSecretBackend } from './keytar-backend.ts';
import { PASSPHRASE_ENV } from './passphrase.ts';
import { assertProfileName } from './profile.ts';

export type KeystoreKind = 'keychain' | 'file';

export interface OpenKeystoreOptions {
  kind: KeystoreKind;
  profile: string;
  /** The app's data directory; the key file lives under it (kind 'file'). */
  dataDir: string;
  /** Required for kind 'file'; get it from readPassphrase(). */
  passphrase?: string;
  /** Keychain service name (default 'cosigner'); tests use their own. */
  service?: string;
  /** KDF cost for a new key file (default N=2^17, r=8, p=1); tests pass light values. */
  scrypt?: ScryptParams;
  random?: Random;
  onEvent?: (event: KeyEvent) => void;
}

/** `<dataDir>/keys/<profile>.keys`: one encrypted file per profile holding all its secrets. */
export function keyFilePath(dataDir: string, profile: string): string {
  assertProfileName(profile);
  return join(dataDir, 'keys', `${profile}.keys`);
}

/**
 * The profile's keystore. Nothing is read yet: the keychain module is loaded and the key file
 * opened on the first operation, whose errors (KEYCHAIN_UNAVAILABLE, WRONG_PASSPHRASE, ...) are
 * what the UI and the CLI show.
 */
export function openKeystore(options: OpenKeystoreOptions): KeyManager {
  const { kind, profile } = options;
  assertProfileName(profile);
  const backend = kind === 'keychain' ? new KeytarSecretBackend({ service: options.service }) : openFileBackend(options);
  return new KeyManager({ backend, profile, random: options.random, onEvent: options.onEvent });
}

function openFileBackend(options: OpenKeystoreOptions): FileSecretBackend {
  if (options.passphrase === undefined) {
    throw new CosignerError('PASSPHRASE_REQUIRED', 'the file keystore needs a passphrase', {
      hint: `Set ${PASSPHRASE_ENV} in the environment, or run in a terminal to be asked for it.`,
    });
  }
  return new FileSecretBackend({
    path: keyFilePath(options.dataDir, options.profile),
    passphrase: options.passphrase,
    scrypt: options.scrypt,
    random: options.random,
  });
}
