import { secp256k1 } from '@noble/curves/secp256k1.js';
import { equalBytes } from '@noble/curves/utils.js';
import { InvalidContributionErr, nonceAggregate, nonceGen } from '@scure/btc-signer/musig2.js';
import { inspect } from 'node:util';
import { CosignerError } from '../errors.ts';
import type { KeyAggContext } from './key-agg.ts';
import { isBytes, publicKeyOf } from './keys.ts';

/**
 * Single-use secret nonce: lives only in memory; signing consumes and zeroizes it; a second use
 * throws NONCE_REUSED. It has no serialization: JSON, inspection and structured cloning see no bytes.
 */
export interface SecretNonce {
  readonly consumed: boolean;
}

export interface NonceGenInput {
  /** 32 bytes, the signer's key (mixed in as BIP327 sk). */
  secretKey: Uint8Array;
  /** Its xOnlyKey is the aggpk input. */
  ctx: KeyAggContext;
  /** The message this nonce will sign (BIP327 msg input). */
  message: Uint8Array;
  /** E.g. session id || attempt || message index. */
  extraIn?: Uint8Array;
  /** 32 bytes; defaults to crypto.getRandomValues. Injected only by tests and vectors. */
  rand?: Uint8Array;
  /** publicKeyOf(secretKey), when the caller makes many nonces with one key (a point
   *  multiplication saved per nonce). Signing still checks the key against the signer's slot. */
  publicKey?: Uint8Array;
}

let take: (nonce: SecretNonce) => Uint8Array;
let peekPublicNonce: (nonce: SecretNonce) => Uint8Array;

class SecretNonceHandle implements SecretNonce {
  // A private field, so no enumeration, JSON, clone or inspection can reach the bytes.
  #secnonce: Uint8Array | null;
  /** The public nonce generated with it, to check it is used in the slot it was announced for. */
  readonly #publicNonce: Uint8Array;

  constructor(secnonce: Uint8Array, publicNonce: Uint8Array) {
    this.#secnonce = secnonce;
    this.#publicNonce = publicNonce;
  }

  get consumed(): boolean {
    return this.#secnonce === null;
  }

  toJSON(): { secretNonce: 'redacted'; consumed: boolean } {
    return { secretNonce: 'redacted', consumed: this.consumed };
  }

  [inspect.custom](): string {
    return `SecretNonce { consumed: ${this.consumed} }`;
  }

  static {
    const own = (nonce: SecretNonce): SecretNonceHandle => {
      if (!(typeof nonce === 'object' && nonce !== null && #secnonce in nonce)) {
        throw new CosignerError('INVALID_INPUT', 'not a secret nonce made by generateNonce');
      }
      return nonce;
    };
    take = (nonce) => {
      const handle = own(nonce);
      const secnonce = handle.#secnonce;
      if (secnonce === null) throw new CosignerError('NONCE_REUSED', 'this secret nonce was already used');
      handle.#secnonce = null;
      return secnonce;
    };
    peekPublicNonce = (nonce) => {
      const handle = own(nonce);
      if (handle.#secnonce === null) throw new CosignerError('NONCE_REUSED', 'this secret nonce was already used');
      return handle.#publicNonce;
    };
  }
}

/**
 * Wraps BIP327 secnonce bytes (taking ownership) with the public nonce they belong to. Engine-internal:
 * not exported by index.ts; generateNonce is the way in, vectors use it to load published secnonces.
 */
export function adoptSecretNonce(secnonce: Uint8Array, publicNonce: Uint8Array): SecretNonce {
  if (!isBytes(secnonce, 97) || !isBytes(publicNonce, 66)) {
    throw new CosignerError('INVALID_INPUT', 'secnonce is 97 bytes and its public nonce 66 bytes');
  }
  return new SecretNonceHandle(secnonce, Uint8Array.from(publicNonce));
}

/**
 * Consumes the nonce and hands over its BIP327 secnonce k1 || k2 || pk (97 bytes), which the taker
 * must zeroize; later takes and peeks throw NONCE_REUSED. Engine-internal.
 */
export function takeSecretNonce(nonce: SecretNonce): Uint8Array {
  return take(nonce);
}

/**
 * Drops a nonce that will not sign (a new attempt, an end, cleanup): its bytes are zeroed now rather
 * than left in memory until collected, and it can sign no more. A nonce already used or dropped is
 * left as it is.
 */
export function discardSecretNonce(nonce: SecretNonce): void {
  if (!nonce.consumed) take(nonce).fill(0);
}

/** The public nonce of an unconsumed nonce (throws NONCE_REUSED if consumed). Engine-internal. */
export function publicNonceOf(nonce: SecretNonce): Uint8Array {
  return peekPublicNonce(nonce);
}

/** BIP327 NonceGen with 32 fresh CSPRNG bytes as rand'. */
export function generateNonce(input: NonceGenInput): { publicNonce: Uint8Array; secretNonce: SecretNonce } {
  const { secretKey, ctx, message, extraIn = new Uint8Array(0), rand } = input;
  if (input.publicKey !== undefined && !isBytes(input.publicKey, 33))
    throw new CosignerError('INVALID_INPUT', 'publicKey must be 33 bytes');
  const publicKey = input.publicKey ?? publicKeyOf(secretKey);
  if (!isBytes(ctx?.xOnlyKey, 32) || !Array.isArray(ctx.publicKeys)) {
    throw new CosignerError('INVALID_INPUT', 'a key aggregation context is required');
  }
  if (!ctx.publicKeys.some((key) => isBytes(key, 33) && equalBytes(key, publicKey))) {
    throw new CosignerError('INVALID_INPUT', 'the secret key is not one of the signers of this context');
  }
  if (!isBytes(message)) throw new CosignerError('INVALID_INPUT', 'message must be bytes');
  if (!isBytes(extraIn)) throw new CosignerError('INVALID_INPUT', 'extraIn must be bytes');
  if (rand !== undefined && !isBytes(rand, 32)) throw new CosignerError('INVALID_INPUT', 'rand must be 32 bytes');
  const nonces = nonceGen(publicKey, secretKey, ctx.xOnlyKey, message, extraIn, rand ?? crypto.getRandomValues(new Uint8Array(32)));
  return { publicNonce: nonces.public, secretNonce: new SecretNonceHandle(nonces.secret, Uint8Array.from(nonces.public)) };
}

/**
 * Whether `nonce` is a signer's BIP327 public nonce: 66 bytes, two compressed points (cpoint of each
 * half, as NonceAgg requires). Only decodes: NonceAgg of the one nonce would also add and re-encode.
 */
export function isValidPublicNonce(nonce: Uint8Array): boolean {
  if (!isBytes(nonce, 66)) return false;
  try {
    secp256k1.Point.fromBytes(nonce.subarray(0, 33));
    secp256k1.Point.fromBytes(nonce.subarray(33, 66));
    return true;
  } catch {
    return false;
  }
}

/** BIP327 NonceAgg; a bad nonce throws INVALID_PUBLIC_NONCE with context.signerIndex. */
export function aggregateNonces(publicNonces: readonly Uint8Array[]): Uint8Array {
  if (!Array.isArray(publicNonces) || publicNonces.length === 0) {
    throw new CosignerError('INVALID_INPUT', 'expected a non-empty list of public nonces');
  }
  publicNonces.forEach((nonce, signerIndex) => {
    if (!isBytes(nonce, 66)) {
      throw new CosignerError('INVALID_PUBLIC_NONCE', 'public nonce must be 66 bytes', { signerIndex });
    }
  });
  try {
    return nonceAggregate([...publicNonces]);
  } catch (e) {
    if (e instanceof InvalidContributionErr) {
      throw new CosignerError('INVALID_PUBLIC_NONCE', 'public nonce is not two valid points', { signerIndex: e.idx }, { cause: e });
    }
    throw e;
  }
}
