import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { concatBytes, equalBytes } from '@noble/curves/utils.js';
import { CosignerError, type ErrorContext } from '../errors.ts';
import { keyAggInternals, type KeyAggContext, type KeyAggInternals } from './key-agg.ts';
import { isBytes, publicKeyOf, secretScalar } from './keys.ts';
import { aggregateNonces, publicNonceOf, takeSecretNonce, type SecretNonce } from './nonce.ts';
import { sessionValues, type SessionValues } from './session-values.ts';
import { partialSign } from './sign.ts';
import { KeyVerifier } from './key-verifier.ts';
import { partialSigValid, verifySignature } from './verify.ts';

const Fn = secp256k1.Point.Fn;

function withContext(e: unknown, extra: ErrorContext): unknown {
  if (!(e instanceof CosignerError)) return e;
  return new CosignerError(e.code, e.message, { ...e.context, ...extra }, { cause: e.cause });
}

/** Messages in a batch from which its aggregate signatures are verified with the key's table. */
const PREPARE_KEY_FROM = 16;

/**
 * N messages signed by the same signer set share one KeyAggContext: the per-message session
 * values (b, R, e) are computed once per message, key-aggregation coefficients once per context.
 * A single message is a batch of one.
 */
export class SigningBatch {
  readonly size: number;
  readonly #key: KeyAggInternals;
  /** [signerIndex][messageIndex], copied so that later changes by the caller cannot reach them. */
  readonly #publicNonces: readonly (readonly Uint8Array[])[];
  readonly #sessions: readonly SessionValues[];

  constructor(
    ctx: KeyAggContext,
    messages: readonly Uint8Array[],
    publicNonces: readonly (readonly Uint8Array[])[] /* [signerIndex][messageIndex] */,
  ) {
    const key = keyAggInternals(ctx);
    if (!Array.isArray(messages) || messages.length === 0) {
      throw new CosignerError('INVALID_INPUT', 'a batch needs at least one message');
    }
    messages.forEach((message, messageIndex) => {
      if (!isBytes(message)) throw new CosignerError('INVALID_INPUT', 'message must be bytes', { messageIndex });
    });
    if (!Array.isArray(publicNonces) || publicNonces.length !== key.publicKeys.length) {
      throw new CosignerError('INVALID_INPUT', 'expected one list of public nonces per signer', {
        expected: key.publicKeys.length,
      });
    }
    publicNonces.forEach((list, signerIndex) => {
      if (!Array.isArray(list) || list.length !== messages.length) {
        throw new CosignerError('INVALID_PUBLIC_NONCE', 'expected one public nonce per message', { signerIndex });
      }
      list.forEach((nonce, messageIndex) => {
        if (!isBytes(nonce, 66)) {
          throw new CosignerError('INVALID_PUBLIC_NONCE', 'public nonce must be 66 bytes', { signerIndex, messageIndex });
        }
      });
    });
    this.#key = key;
    this.#publicNonces = publicNonces.map((list) => list.map((nonce: Uint8Array) => Uint8Array.from(nonce)));
    this.#sessions = messages.map((message, messageIndex) => {
      let aggNonce: Uint8Array;
      try {
        aggNonce = aggregateNonces(this.#publicNonces.map((list) => list[messageIndex] as Uint8Array));
      } catch (e) {
        throw withContext(e, { messageIndex });
      }
      return sessionValues(key, aggNonce, message);
    });
    this.size = messages.length;
  }

  #checkSigner(signerIndex: number): void {
    if (!Number.isInteger(signerIndex) || signerIndex < 0 || signerIndex >= this.#key.publicKeys.length) {
      throw new CosignerError('INVALID_INPUT', 'no signer at this index', { slot: signerIndex });
    }
  }

  /**
   * This signer's partial signatures for every message (32 bytes each), consuming its secret nonces
   * (one per message, in order). Checks that need no secret run first and leave the nonces intact;
   * once they pass, every nonce is consumed before any signing, and zeroized whatever happens next.
   */
  sign(signerIndex: number, secretKey: Uint8Array, secretNonces: readonly SecretNonce[]): Uint8Array[] {
    this.#checkSigner(signerIndex);
    const d = secretScalar(secretKey);
    if (!equalBytes(publicKeyOf(secretKey), this.#key.publicKeys[signerIndex] as Uint8Array)) {
      throw new CosignerError('INVALID_INPUT', 'the secret key does not belong to this signer index', { slot: signerIndex });
    }
    if (!Array.isArray(secretNonces) || secretNonces.length !== this.size) {
      throw new CosignerError('INVALID_INPUT', 'expected one secret nonce per message', { expected: this.size });
    }
    if (new Set(secretNonces).size !== secretNonces.length) {
      throw new CosignerError('NONCE_REUSED', 'the same secret nonce is given for two messages');
    }
    const announced = this.#publicNonces[signerIndex] as readonly Uint8Array[];
    secretNonces.forEach((nonce, messageIndex) => {
      let publicNonce: Uint8Array;
      try {
        publicNonce = publicNonceOf(nonce);
      } catch (e) {
        throw withContext(e, { messageIndex });
      }
      if (!equalBytes(publicNonce, announced[messageIndex] as Uint8Array)) {
        throw new CosignerError('INVALID_INPUT', 'secret nonce does not match the public nonce of this slot', {
          slot: signerIndex,
          messageIndex,
        });
      }
    });
    const taken = secretNonces.map(takeSecretNonce);
    try {
      return this.#sessions.map((session, messageIndex) =>
        partialSign(this.#key, session, signerIndex, d, taken[messageIndex] as Uint8Array),
      );
    } finally {
      for (const secnonce of taken) secnonce.fill(0);
    }
  }

  /** BIP327 PartialSigVerify for one signer and message. */
  verifyPartial(signerIndex: number, messageIndex: number, partialSig: Uint8Array): boolean {
    this.#checkSigner(signerIndex);
    if (!Number.isInteger(messageIndex) || messageIndex < 0 || messageIndex >= this.size) {
      throw new CosignerError('INVALID_INPUT', 'no message at this index', { messageIndex });
    }
    const publicNonce = (this.#publicNonces[signerIndex] as readonly Uint8Array[])[messageIndex] as Uint8Array;
    return partialSigValid(this.#key, this.#sessions[messageIndex] as SessionValues, signerIndex, publicNonce, partialSig);
  }

  /**
   * Aggregates [signerIndex][messageIndex] partial signatures into one 64-byte BIP340 signature per
   * message. Each final signature is verified; only if one fails are that message's partials verified
   * one by one, to name the faulty signer: INVALID_PARTIAL_SIGNATURE with signerIndex and messageIndex.
   */
  aggregate(partialSigs: readonly (readonly Uint8Array[])[]): Uint8Array[] {
    const signers = this.#key.publicKeys.length;
    if (!Array.isArray(partialSigs) || partialSigs.length !== signers) {
      throw new CosignerError('INVALID_INPUT', 'expected one list of partial signatures per signer', { expected: signers });
    }
    partialSigs.forEach((list, signerIndex) => {
      if (!Array.isArray(list) || list.length !== this.size) {
        throw new CosignerError('INVALID_PARTIAL_SIGNATURE', 'expected one partial signature per message', { signerIndex });
      }
    });
    // Many messages under the one key of a batch (a PSBT's inputs on one address): its table (about
    // 8 ms) pays for itself after a dozen verifications, each then about half the cost.
    let verifier: KeyVerifier | undefined;
    if (this.size >= PREPARE_KEY_FROM) {
      verifier = new KeyVerifier(1);
      verifier.prepare(this.#key.xOnlyQ);
    }
    return this.#sessions.map((session, messageIndex) => {
      const column = partialSigs.map((list) => list[messageIndex] as Uint8Array);
      let s = Fn.ZERO;
      column.forEach((partialSig, signerIndex) => {
        if (!isBytes(partialSig, 32)) {
          throw new CosignerError('INVALID_PARTIAL_SIGNATURE', 'partial signature must be 32 bytes', {
            signerIndex,
            messageIndex,
          });
        }
        const si = Fn.fromBytes(partialSig, true);
        if (!Fn.isValid(si)) {
          throw new CosignerError('INVALID_PARTIAL_SIGNATURE', 'partial signature is not a scalar below n', {
            signerIndex,
            messageIndex,
          });
        }
        s = Fn.add(s, si);
      });
      s = Fn.add(s, Fn.mul(session.e, this.#key.tweakTerm));
      const signature = concatBytes(schnorr.utils.pointToBytes(session.R), Fn.toBytes(s));
      if (!verifySignature(signature, session.message, this.#key.xOnlyQ, verifier)) this.#blame(messageIndex, column);
      return signature;
    });
  }

  #blame(messageIndex: number, column: readonly Uint8Array[]): never {
    column.forEach((partialSig, signerIndex) => {
      if (!this.verifyPartial(signerIndex, messageIndex, partialSig)) {
        throw new CosignerError('INVALID_PARTIAL_SIGNATURE', 'partial signature does not verify', {
          signerIndex,
          messageIndex,
        });
      }
    });
    // Every partial verified yet the sum does not: the engine itself is wrong, no signer is to blame.
    throw new CosignerError('SIGNATURE_INVALID', 'aggregate signature does not verify', { messageIndex });
  }
}
