import { inspect } from 'node:util';
import { bytesToHex } from '@noble/hashes/utils.js';
import { CosignerError } from '../errors.ts';
import type { SignerKey } from '../session/ports.ts';
import { fingerprintOf, publicKeyOf } from './key-derivation.ts';

/**
 * The signer key as the rest of the back end sees it. The secret sits in a private field, so
 * JSON, util.inspect, structuredClone and console.log show only the public half; code that signs
 * asks for it explicitly, gets its own copy and should zeroize that copy when done. It is the
 * coordinator's SignerKey port.
 */
export class LocalSignerKey implements SignerKey {
  readonly fingerprint: string;
  readonly #publicKey: Uint8Array;
  #secret: Uint8Array | null;

  /** Takes a copy of `secret`; the caller keeps ownership of (and zeroizes) its own buffer. */
  constructor(secret: Uint8Array) {
    this.#secret = Uint8Array.from(secret);
    this.#publicKey = publicKeyOf(this.#secret);
    this.fingerprint = fingerprintOf(this.#publicKey);
  }

  /** 33-byte compressed public key (a copy). */
  get publicKey(): Uint8Array {
    return Uint8Array.from(this.#publicKey);
  }

  /** A fresh copy of the 32-byte secret key. */
  secretKey(): Uint8Array {
    if (this.#secret === null) {
      throw new CosignerError('KEY_NOT_FOUND', 'this signer key handle was disposed', { fingerprint: this.fingerprint });
    }
    return Uint8Array.from(this.#secret);
  }

  get disposed(): boolean {
    return this.#secret === null;
  }

  /** Zeroizes the secret; later secretKey() calls throw. */
  dispose(): void {
    this.#secret?.fill(0);
    this.#secret = null;
  }

  toJSON(): { publicKey: string; fingerprint: string } {
    return { publicKey: bytesToHex(this.#publicKey), fingerprint: this.fingerprint };
  }

  [inspect.custom](): string {
    return `LocalSignerKey { fingerprint: '${this.fingerprint}', publicKey: '${bytesToHex(this.#publicKey)}' }`;
  }
}
