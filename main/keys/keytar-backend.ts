import { createRequire } from 'node:module';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { CosignerError } from '../errors.ts';
import type { Scheduler } from '../session/ports.ts';
import { createSystemScheduler } from '../system-ports.ts';
import { keychainTimeout, keychainUnavailable } from './keychain-errors.ts';
import type { SecretBackend } from './secret-backend.ts';

/** The part of keytar this backend uses (keytar.d.ts). */
export interface KeytarApi {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

export const KEYCHAIN_SERVICE = 'cosigner';

// Long enough to notice an unlock prompt and type a password; a later answer still lands (see #call).
export const DEFAULT_KEYCHAIN_TIMEOUT_MS = 30_000;

// Profiles start with a letter or digit (see profile.ts), so this account can never hold a key.
const PROBE_ACCOUNT = '.probe';

function requireKeytar(): KeytarApi {
  // keytar is a native CommonJS module: required here, on first use, so that a process that never
  // touches the keychain (file keystore, tests, the renderer bundle) never loads libsecret.
  return createRequire(import.meta.url)('keytar') as KeytarApi;
}

export interface KeytarBackendOptions {
  /** Keychain service name; tests use their own so they never meet a real key. */
  service?: string;
  /** Supplies the keytar module; tests inject a fake to exercise failure mapping. */
  load?: () => KeytarApi;
  /** How long one keytar call may take before it fails with KEYCHAIN_TIMEOUT (default 30 s). */
  timeoutMs?: number;
  /** Runs the timeouts; tests inject a fake one. */
  scheduler?: Scheduler;
}

/**
 * The OS keychain through keytar: macOS Keychain, Windows Credential Manager, Secret Service.
 * Values are stored as lowercase hex, because keytar stores strings and some platforms mangle
 * arbitrary bytes in them. Every native failure becomes KEYCHAIN_UNAVAILABLE with a hint, and a
 * call that does not settle in time (an unanswered unlock prompt, a hung Secret Service)
 * KEYCHAIN_TIMEOUT.
 */
export class KeytarSecretBackend implements SecretBackend {
  readonly kind = 'keychain';
  readonly service: string;
  readonly #load: () => KeytarApi;
  readonly #timeoutMs: number;
  readonly #scheduler: Scheduler;
  #keytar: KeytarApi | undefined;
  /** Calls that timed out and have not come back yet: while any is out, later calls are refused. */
  #abandonedCallsOut = 0;

  constructor(options: KeytarBackendOptions = {}) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_KEYCHAIN_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new CosignerError('INVALID_INPUT', 'the keychain timeout must be a positive number of milliseconds', { timeoutMs });
    }
    this.service = options.service ?? KEYCHAIN_SERVICE;
    this.#load = options.load ?? requireKeytar;
    this.#timeoutMs = timeoutMs;
    this.#scheduler = options.scheduler ?? createSystemScheduler();
  }

  async get(name: string): Promise<Uint8Array | null> {
    const found = await this.#call('get', (k) => k.getPassword(this.service, name));
    if (found !== null) return decodeStored(found, name);
    // libsecret answers a lookup in a locked collection whose unlock prompt failed exactly as it
    // answers a lookup of a missing item: null. A user whose key is merely locked away must not be
    // told it is gone (and offered to create a new one), so "missing" is only believed once a
    // write proves the keychain unlocked. The write may itself be what unlocks it, so look again.
    await this.#call('probe', (k) => k.setPassword(this.service, PROBE_ACCOUNT, 'probe'));
    await this.#call('probe', (k) => k.deletePassword(this.service, PROBE_ACCOUNT));
    const second = await this.#call('get', (k) => k.getPassword(this.service, name));
    return second === null ? null : decodeStored(second, name);
  }

  async set(name: string, value: Uint8Array): Promise<void> {
    if (value.length === 0) throw new CosignerError('INVALID_INPUT', 'refusing to store an empty secret', { name });
    await this.#call('set', (k) => k.setPassword(this.service, name, bytesToHex(value)));
  }

  async delete(name: string): Promise<boolean> {
    return this.#call('delete', (k) => k.deletePassword(this.service, name));
  }

  /**
   * One keytar call, bounded by the timeout. A native call cannot be cancelled: it keeps blocking
   * one of libuv's four pool threads (which fs and scrypt need too) until libsecret returns, and it
   * may still complete, for instance once the user answers the unlock prompt. So while a timed-out
   * call is out, no other call is made: the pool is never drained by retries, and a late write can
   * only land before any later operation reads or writes. Landing late is then harmless: it stores
   * exactly the value it was asked to store (the key manager recognises its own key on a retry),
   * or deletes what the user confirmed deleting.
   */
  async #call<T>(operation: string, fn: (keytar: KeytarApi) => Promise<T>): Promise<T> {
    if (this.#keytar === undefined) {
      try {
        this.#keytar = this.#load();
      } catch (e) {
        throw keychainUnavailable('load', e, 'module-missing');
      }
    }
    if (this.#abandonedCallsOut > 0) throw keychainTimeout(operation, this.#timeoutMs, true);
    const keytar = this.#keytar;
    const call = new Promise<T>((resolve) => resolve(fn(keytar)));
    return new Promise<T>((resolve, reject) => {
      const timer = this.#scheduler.setTimeout(() => {
        // Counted, not flagged: two calls may time out together, and each must land first.
        this.#abandonedCallsOut += 1;
        const release = () => {
          this.#abandonedCallsOut -= 1;
        };
        call.then(release, release);
        reject(keychainTimeout(operation, this.#timeoutMs));
      }, this.#timeoutMs);
      call.then(
        (value) => {
          this.#scheduler.clear(timer);
          resolve(value);
        },
        (e: unknown) => {
          this.#scheduler.clear(timer);
          reject(keychainUnavailable(operation, e));
        },
      );
    });
  }
}

function decodeStored(stored: string, name: string): Uint8Array {
  if (stored.length === 0 || stored.length % 2 !== 0 || !/^[0-9a-f]+$/.test(stored)) {
    throw new CosignerError('CORRUPT_KEY_FILE', 'the keychain entry is not in the format Cosigner writes', {
      backend: 'keychain',
      name,
    });
  }
  return hexToBytes(stored);
}
