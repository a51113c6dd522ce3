import { readFile } from 'node:fs/promises';
import { CosignerError } from '../errors.ts';
import type { Random } from '../session/ports.ts';
import { removeFileDurably, writeFileAtomic } from '../storage/atomic-file.ts';
import {
  assertScryptParams,
  DEFAULT_SCRYPT_PARAMS,
  deriveFileKeys,
  type FileKeys,
  KEY_FILE_LAYOUT,
  openKeyFile,
  readKeyFileEnvelope,
  sameKdfInput,
  type ScryptParams,
  sealKeyFile,
} from './key-file-format.ts';
import type { SecretBackend } from './secret-backend.ts';
import { serial } from './serial.ts';
import { systemRandom } from '../system-ports.ts';
import { decodeSecretMap, encodeSecretMap } from './secret-map.ts';

export interface FileBackendOptions {
  /** The key file; its directory is created 0700 if missing. */
  path: string;
  passphrase: string;
  /** KDF cost for files this backend writes; tests pass light parameters. */
  scrypt?: ScryptParams;
  random?: Random;
}

/**
 * Secrets in one passphrase-encrypted file (key-file-format.ts), for machines without an OS
 * keychain. Every change decrypts the file first, so a wrong passphrase can never add a secret
 * under a second passphrase, and every failure happens before the atomic rename: the file on disk
 * is either the old one or the new one.
 *
 * The scrypt output of the last successful open is kept in memory so that a read followed by a
 * write costs one derivation, not three; it is worth no more to an attacker in memory than the
 * passphrase it was derived from, which this object holds anyway.
 *
 * One process at a time: operations in this object are serialized, but two processes writing the
 * same file concurrently can lose one write (the later rename wins).
 */
export class FileSecretBackend implements SecretBackend {
  readonly kind = 'file';
  readonly path: string;
  readonly #passphrase: string;
  readonly #params: ScryptParams;
  readonly #random: Random;
  #keys: FileKeys | null = null;
  readonly #exclusive = serial();

  constructor(options: FileBackendOptions) {
    if (options.passphrase.length === 0) {
      throw new CosignerError('PASSPHRASE_REQUIRED', 'the key file needs a non-empty passphrase', { path: options.path });
    }
    this.path = options.path;
    this.#passphrase = options.passphrase;
    this.#params = { ...(options.scrypt ?? DEFAULT_SCRYPT_PARAMS) };
    assertScryptParams(this.#params);
    this.#random = options.random ?? systemRandom;
  }

  get(name: string): Promise<Uint8Array | null> {
    return this.#exclusive(async () => {
      const secrets = await this.#read();
      if (secrets === null) return null;
      const value = secrets.get(name);
      const copy = value === undefined ? null : Uint8Array.from(value);
      wipe(secrets);
      return copy;
    });
  }

  set(name: string, value: Uint8Array): Promise<void> {
    return this.#exclusive(async () => {
      const secrets = (await this.#read()) ?? new Map<string, Uint8Array>();
      secrets.get(name)?.fill(0);
      secrets.set(name, Uint8Array.from(value));
      try {
        await this.#write(secrets);
      } finally {
        wipe(secrets);
      }
    });
  }

  delete(name: string): Promise<boolean> {
    return this.#exclusive(async () => {
      const secrets = await this.#read();
      if (secrets === null || !secrets.has(name)) {
        if (secrets !== null) wipe(secrets);
        return false;
      }
      secrets.get(name)?.fill(0);
      secrets.delete(name);
      try {
        if (secrets.size === 0) await this.#io('delete', () => removeFileDurably(this.path));
        else await this.#write(secrets);
      } finally {
        wipe(secrets);
      }
      return true;
    });
  }

  async #read(): Promise<Map<string, Uint8Array> | null> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw storageFailed('read', this.path, e);
    }
    const envelope = readKeyFileEnvelope(bytes, this.path);
    const keys =
      this.#keys !== null && sameKdfInput(this.#keys, envelope.salt, envelope.params)
        ? this.#keys
        : await deriveFileKeys(this.#passphrase, envelope.salt, envelope.params);
    const plaintext = openKeyFile(envelope, keys, this.path);
    this.#keys = keys;
    try {
      return decodeSecretMap(plaintext);
    } catch {
      throw new CosignerError('CORRUPT_KEY_FILE', 'the key file is damaged: its content is malformed', { path: this.path });
    } finally {
      plaintext.fill(0);
    }
  }

  async #write(secrets: ReadonlyMap<string, Uint8Array>): Promise<void> {
    // Same passphrase and cost as the file just read: keep its salt (a fresh nonce is enough).
    // Otherwise (new file, or a file written at another cost) derive anew with a fresh salt.
    const cached = this.#keys;
    const keys =
      cached !== null && sameKdfInput(cached, cached.salt, this.#params)
        ? cached
        : await deriveFileKeys(this.#passphrase, this.#random.bytes(KEY_FILE_LAYOUT.SALT_BYTES), this.#params);
    const plaintext = encodeSecretMap(secrets);
    const sealed = sealKeyFile(plaintext, keys, this.#random.bytes(KEY_FILE_LAYOUT.NONCE_BYTES));
    plaintext.fill(0);
    await this.#io('write', () => writeFileAtomic(this.path, sealed));
    this.#keys = keys;
  }

  async #io<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw storageFailed(operation, this.path, e);
    }
  }
}

function wipe(secrets: Map<string, Uint8Array>): void {
  for (const value of secrets.values()) value.fill(0);
  secrets.clear();
}

function storageFailed(operation: string, path: string, cause: unknown): CosignerError {
  const code = (cause as NodeJS.ErrnoException).code;
  return new CosignerError('STORAGE_FAILED', `could not ${operation} the key file`, { path, operation, errno: code ?? null }, { cause });
}
