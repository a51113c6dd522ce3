/**
 * BIP340 verification under keys that sign again and again: a group's co-signers, each of whose
 * session messages is signed. For a prepared key the lifted point and a table of its multiples
 * (noble's window-4 precomputation, about 10 ms to build) are kept, so a verification costs about
 * half of `schnorr.verify`, which lifts the key and multiplies it from scratch every time
 * (test/bench/musig.bench.ts). Keys are prepared ahead of use (when a request arrives, while its
 * signers decide) and the last `maxKeys` are kept; an unprepared key is verified by `schnorr.verify`.
 *
 * The algorithm is BIP340's Verify, composed from noble's point operations with noble's own bounds
 * (r a nonzero field element, s a nonzero scalar, as `schnorr.verify`); checked against the BIP340
 * vectors and against `schnorr.verify` on random and tampered signatures (test/unit/musig).
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { isBytes } from './keys.ts';

const Point = secp256k1.Point;
const { Fp, Fn } = Point;
type Lifted = InstanceType<typeof Point>;

/** noble's precomputation window for a prepared key: 4 builds in ~10 ms and halves verification. */
const WINDOW = 4;
const CHALLENGE_TAG = 'BIP0340/challenge';

export class KeyVerifier {
  readonly #maxKeys: number;
  /** x-only key (hex) → its lifted point, least recently used first. */
  readonly #points = new Map<string, Lifted>();

  constructor(maxKeys = 64) {
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be a positive integer');
    this.#maxKeys = maxKeys;
  }

  get prepared(): number {
    return this.#points.size;
  }

  /** Builds (or keeps) the table of `xOnlyKey`; a key that is not a valid BIP340 key is ignored. */
  prepare(xOnlyKey: Uint8Array): void {
    if (!isBytes(xOnlyKey, 32)) return;
    const id = bytesToHex(xOnlyKey);
    const known = this.#points.get(id);
    if (known !== undefined) {
      this.#points.delete(id);
      this.#points.set(id, known);
      return;
    }
    let point: Lifted;
    try {
      point = Point.fromBytes(Uint8Array.of(0x02, ...xOnlyKey));
    } catch {
      return;
    }
    point.precompute(WINDOW, false);
    this.#points.set(id, point);
    while (this.#points.size > this.#maxKeys) this.#points.delete(this.#points.keys().next().value as string);
  }

  /** BIP340 Verify(pk, m, sig); malformed input is simply not a valid signature. */
  verify(signature: Uint8Array, message: Uint8Array, xOnlyKey: Uint8Array): boolean {
    if (!isBytes(signature, 64) || !isBytes(message) || !isBytes(xOnlyKey, 32)) return false;
    const P = this.#points.get(bytesToHex(xOnlyKey));
    if (P === undefined) return schnorr.verify(signature, message, xOnlyKey);
    const rBytes = signature.subarray(0, 32);
    const r = bytesToNumberBE(rBytes);
    if (!Fp.isValidNot0(r)) return false;
    const s = bytesToNumberBE(signature.subarray(32, 64));
    if (!Fn.isValidNot0(s)) return false;
    const e = Fn.create(bytesToNumberBE(schnorr.utils.taggedHash(CHALLENGE_TAG, rBytes, xOnlyKey, message)));
    // R = s⋅G − e⋅P: the base point's and the key's own tables.
    const R = Point.BASE.multiplyUnsafe(s).add(P.multiplyUnsafe(Fn.neg(e)));
    if (R.is0()) return false;
    const { x, y } = R.toAffine();
    return (y & 1n) === 0n && x === r;
  }
}
