import { CosignerError } from '../errors.ts';
import type { SecretBackend } from './secret-backend.ts';

/**
 * The desktop app's keystore, chosen while it runs: the OS keychain where one works, else the
 * encrypted key file, whose passphrase the user types in the app (at first run to create it, at
 * each start to unlock it). Until a file's passphrase is given every call fails with
 * PASSPHRASE_REQUIRED, which the first-run screen answers. The headless mode never uses this: it
 * reads its passphrase from the terminal or the environment before anything starts.
 */
export type KeystoreBackendKind = 'keychain' | 'file';

export class SwitchableBackend implements SecretBackend {
  #current: KeystoreBackendKind;
  #inner: SecretBackend | undefined;
  readonly #keychain: SecretBackend | undefined;

  private constructor(current: KeystoreBackendKind, inner: SecretBackend | undefined) {
    this.#current = current;
    this.#inner = inner;
    this.#keychain = current === 'keychain' ? inner : undefined;
  }

  /** Starts on the keychain (no key file yet). */
  static keychain(backend: SecretBackend): SwitchableBackend {
    return new SwitchableBackend('keychain', backend);
  }

  /** Starts on a key file that exists, locked until its passphrase is given. */
  static lockedFile(): SwitchableBackend {
    return new SwitchableBackend('file', undefined);
  }

  get kind(): string {
    return this.#current;
  }

  get current(): KeystoreBackendKind {
    return this.#current;
  }

  get locked(): boolean {
    return this.#inner === undefined;
  }

  /** From now on, the key file opened with the user's passphrase. */
  useFile(file: SecretBackend): void {
    this.#current = 'file';
    this.#inner = file;
  }

  /** Back to locked, e.g. after a wrong passphrase. */
  lock(): void {
    this.#current = 'file';
    this.#inner = undefined;
  }

  /** Back to the keychain it started on, when a switch to a key file failed. */
  restoreKeychain(): void {
    if (!this.#keychain) throw new CosignerError('INVALID_INPUT', 'this keystore did not start on the keychain');
    this.#current = 'keychain';
    this.#inner = this.#keychain;
  }

  get(name: string): Promise<Uint8Array | null> {
    return this.#backend().get(name);
  }

  set(name: string, value: Uint8Array): Promise<void> {
    return this.#backend().set(name, value);
  }

  delete(name: string): Promise<boolean> {
    return this.#backend().delete(name);
  }

  #backend(): SecretBackend {
    if (this.#inner) return this.#inner;
    throw new CosignerError('PASSPHRASE_REQUIRED', 'the key file is locked', {
      hint: 'Enter the key file passphrase to unlock your key.',
    });
  }
}
