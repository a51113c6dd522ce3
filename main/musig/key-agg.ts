import type { WeierstrassPoint } from '@noble/curves/abstract/weierstrass.js';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, equalBytes } from '@noble/curves/utils.js';
import { InvalidContributionErr, keyAggregate } from '@scure/btc-signer/musig2.js';
import { hasEven } from '@scure/btc-signer/utils.js';
import { CosignerError } from '../errors.ts';
import { taggedScalar } from './hash.ts';
import { isBytes } from './keys.ts';

type Point = WeierstrassPoint<bigint>;
const Point = secp256k1.Point;
const Fn = Point.Fn;
const { taggedHash, pointToBytes } = schnorr.utils;

export type Tweak = { tweak: Uint8Array; xOnly: boolean };

/** Immutable key-aggregation context, computed once and shared by every message of a batch. */
export interface KeyAggContext {
  /** 33-byte compressed keys in the order given (signer index = position). */
  readonly publicKeys: readonly Uint8Array[];
  readonly tweaks: readonly Tweak[];
  /** 33-byte compressed Q after tweaks (GetPlainPubkey). */
  readonly aggregateKey: Uint8Array;
  /** 32-byte x-only Q (GetXonlyPubkey): final signatures verify under it. */
  readonly xOnlyKey: Uint8Array;
}

/**
 * The public-data work of BIP327 that depends only on the signer set and tweaks: done once per
 * context, then reused by every session of every batch signed under it.
 */
export interface KeyAggInternals {
  readonly publicKeys: readonly Uint8Array[];
  readonly tweaks: readonly Tweak[];
  readonly points: readonly Point[];
  /** KeyAggCoeff a_i for the key at each position. */
  readonly coefficients: readonly bigint[];
  readonly xOnlyQ: Uint8Array;
  /** g * gacc of BIP327 Sign and PartialSigVerifyInternal, g = 1 if Q has even y else n - 1. */
  readonly signFactor: bigint;
  /** g * tacc, the tweak term PartialSigAgg adds to s after multiplying by e. */
  readonly tweakTerm: bigint;
  /** The BIP327 key generation context (Q, gacc, tacc) after the tweaks, for applying more. */
  readonly state: TweakState;
}

interface TweakState {
  readonly Q: Point;
  readonly gAcc: bigint;
  readonly tAcc: bigint;
}

// Only contexts made here are accepted by the batch: its coefficients and points can then be trusted.
const internalsOf = new WeakMap<KeyAggContext, KeyAggInternals>();

export function keyAggInternals(ctx: KeyAggContext): KeyAggInternals {
  const internals = typeof ctx === 'object' && ctx !== null ? internalsOf.get(ctx) : undefined;
  if (!internals) throw new CosignerError('INVALID_INPUT', 'key aggregation context was not made by aggregateKeys');
  return internals;
}

/** BIP327 KeyAggCoeff for every position: L and the second key are shared by all of them. */
function keyAggCoefficients(publicKeys: readonly Uint8Array[]): bigint[] {
  const L = taggedHash('KeyAgg list', ...publicKeys);
  const first = publicKeys[0] as Uint8Array;
  const second = publicKeys.find((key) => !equalBytes(key, first));
  return publicKeys.map((key) => (second !== undefined && equalBytes(key, second) ? Fn.ONE : taggedScalar('KeyAgg coefficient', L, key)));
}

function checkTweaks(tweaks: readonly Tweak[]): void {
  if (!Array.isArray(tweaks)) throw new CosignerError('INVALID_INPUT', 'tweaks must be a list');
  tweaks.forEach((t, tweakIndex) => {
    if (typeof t !== 'object' || t === null || !isBytes(t.tweak, 32) || typeof t.xOnly !== 'boolean') {
      throw new CosignerError('INVALID_TWEAK', 'a tweak is 32 bytes with an xOnly flag', { tweakIndex });
    }
    if (!Fn.isValid(Fn.fromBytes(t.tweak, true))) {
      throw new CosignerError('INVALID_TWEAK', 'the tweak must be less than n', { tweakIndex });
    }
  });
}

/** BIP327 ApplyTweak: the sign flip for x-only tweaks, then Q' = g*Q + t*G. */
function applyTweak(state: TweakState, tweak: Tweak, tweakIndex: number): TweakState {
  const g = tweak.xOnly && !hasEven(state.Q.y) ? Fn.neg(Fn.ONE) : Fn.ONE;
  const t = Fn.fromBytes(tweak.tweak, true);
  const gQ = g === Fn.ONE ? state.Q : state.Q.negate();
  // Tweaks are public (every co-signer and verifier knows them): the variable-time multiply is
  // safe here and costs half the constant-time one (a BIP328 address is one tweak, then another).
  const Q = t === 0n ? gQ : gQ.add(Point.BASE.multiplyUnsafe(t));
  if (Q.equals(Point.ZERO)) {
    throw new CosignerError('INVALID_TWEAK', 'the tweak makes the aggregate key the point at infinity', { tweakIndex });
  }
  return { Q, gAcc: Fn.mul(g, state.gAcc), tAcc: Fn.add(t, Fn.mul(g, state.tAcc)) };
}

function makeContext(
  keys: readonly Uint8Array[],
  points: readonly Point[],
  coefficients: readonly bigint[],
  tweaks: readonly Tweak[],
  computed: TweakState,
): KeyAggContext {
  // noble does not remember a point's affine form: Q is normalized once (one field inversion), so
  // its every use here and in later tweaks is read for free instead of inverting again.
  const Q = Point.fromAffine(computed.Q.toAffine());
  const state: TweakState = { ...computed, Q };
  const g = hasEven(Q.y) ? Fn.ONE : Fn.neg(Fn.ONE);
  const internals: KeyAggInternals = Object.freeze({
    publicKeys: keys,
    tweaks,
    points,
    coefficients,
    xOnlyQ: pointToBytes(Q),
    signFactor: Fn.mul(g, state.gAcc),
    tweakTerm: Fn.mul(g, state.tAcc),
    state,
  });
  const ctx: KeyAggContext = Object.freeze({
    publicKeys: Object.freeze(keys.map((key) => Uint8Array.from(key))),
    tweaks: Object.freeze(tweaks.map((t) => Object.freeze({ tweak: Uint8Array.from(t.tweak), xOnly: t.xOnly }))),
    aggregateKey: Q.toBytes(true),
    xOnlyKey: pointToBytes(Q),
  });
  internalsOf.set(ctx, internals);
  return ctx;
}

function ownTweaks(tweaks: readonly Tweak[]): readonly Tweak[] {
  return tweaks.map((t) => Object.freeze({ tweak: Uint8Array.from(t.tweak), xOnly: t.xOnly }));
}

/**
 * A group signs many sessions with the same keys: their aggregation (one point multiplication per
 * key) is kept for the most recent signer sets. Each caller still gets its own context object, so
 * nothing a caller does to its bytes reaches another.
 */
const RECENT_AGGREGATIONS = 64;
const recent = new Map<string, KeyAggInternals>();

function cacheKey(publicKeys: readonly Uint8Array[], tweaks: readonly Tweak[]): string {
  return [...publicKeys.map((k) => bytesToHex(k)), ...tweaks.map((t) => `${t.xOnly ? 'x' : 'p'}${bytesToHex(t.tweak)}`)].join('.');
}

/** BIP327 KeyAgg then ApplyTweak for each tweak, in order. */
export function aggregateKeys(publicKeys: readonly Uint8Array[], tweaks: readonly Tweak[] = []): KeyAggContext {
  if (!Array.isArray(publicKeys) || publicKeys.length === 0) {
    throw new CosignerError('INVALID_INPUT', 'expected a non-empty list of public keys');
  }
  publicKeys.forEach((key, signerIndex) => {
    if (!isBytes(key, 33)) throw new CosignerError('INVALID_PUBLIC_KEY', 'public key must be 33 bytes', { signerIndex });
  });
  checkTweaks(tweaks);
  const key = cacheKey(publicKeys, tweaks);
  const hit = recent.get(key);
  if (hit) {
    recent.delete(key);
    recent.set(key, hit);
    return makeContext(hit.publicKeys, hit.points, hit.coefficients, hit.tweaks, hit.state);
  }
  const ctx = aggregateUncached(publicKeys, tweaks);
  recent.set(key, keyAggInternals(ctx));
  if (recent.size > RECENT_AGGREGATIONS) recent.delete(recent.keys().next().value as string);
  return ctx;
}

function aggregateUncached(publicKeys: readonly Uint8Array[], tweaks: readonly Tweak[]): KeyAggContext {
  const keys = Object.freeze(publicKeys.map((key) => Uint8Array.from(key)));
  let agg: ReturnType<typeof keyAggregate>;
  try {
    agg = keyAggregate([...keys]);
  } catch (e) {
    if (e instanceof InvalidContributionErr) {
      throw new CosignerError('INVALID_PUBLIC_KEY', 'public key is not a valid point', { signerIndex: e.idx }, { cause: e });
    }
    // Keys are valid points by now: an aggregate at infinity would take a hash collision.
    throw new CosignerError('INVALID_PUBLIC_KEY', `key aggregation failed: ${(e as Error).message}`, {}, { cause: e });
  }
  const own = ownTweaks(tweaks);
  const state = own.reduce(applyTweak, { Q: agg.aggPublicKey, gAcc: agg.gAcc, tAcc: agg.tweakAcc } as TweakState);
  return makeContext(
    keys,
    Object.freeze(keys.map((key) => Point.fromBytes(key))),
    Object.freeze(keyAggCoefficients(keys)),
    Object.freeze(own),
    state,
  );
}

/**
 * More tweaks on top of a context's: the key-aggregation work (coefficients, points, Q) is reused,
 * each tweak costs one base-point multiplication. Same result as aggregateKeys with all the tweaks.
 */
export function withTweaks(ctx: KeyAggContext, tweaks: readonly Tweak[]): KeyAggContext {
  const base = keyAggInternals(ctx);
  checkTweaks(tweaks);
  const own = ownTweaks(tweaks);
  const offset = base.tweaks.length;
  const state = own.reduce((st, t, i) => applyTweak(st, t, offset + i), base.state);
  return makeContext(base.publicKeys, base.points, base.coefficients, Object.freeze([...base.tweaks, ...own]), state);
}

/**
 * Adds the BIP341 taproot tweak to ctx (x-only): t = hashTapTweak(xonly(Q)) for a key-path-only
 * output, t = hashTapTweak(xonly(Q) || merkleRoot) for an output that commits to a script tree.
 */
export function withTaprootTweak(ctx: KeyAggContext, merkleRoot?: Uint8Array): KeyAggContext {
  const xOnlyQ = keyAggInternals(ctx).xOnlyQ;
  if (merkleRoot !== undefined && merkleRoot.length !== 32) throw new CosignerError('INVALID_TWEAK', 'a merkle root is 32 bytes');
  const tweak = merkleRoot === undefined ? taggedHash('TapTweak', xOnlyQ) : taggedHash('TapTweak', xOnlyQ, merkleRoot);
  return withTweaks(ctx, [{ tweak, xOnly: true }]);
}
