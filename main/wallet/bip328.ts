/**
 * BIP328: a group's aggregate key as a BIP32 extended public key (the "synthetic xpub"), and the
 * unhardened children derived from it — fresh addresses for one group without new key ceremonies.
 *
 * Each BIP32 step's I_L is a plain tweak (BIP327 ApplyTweak with is_xonly_t = false), so a child's
 * signing context is the group's keys with those tweaks, then the taproot tweak. @scure/bip32 only
 * serializes the xpub; tests derive with it independently and compare.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hmac } from '@noble/hashes/hmac.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { HDKey, type Versions } from '@scure/bip32';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { CosignerError, isCosignerError } from '../errors.ts';
import { withTaprootTweak, withTweaks, type KeyAggContext } from '../musig/index.ts';

const Fn = secp256k1.Point.Fn;

/** BIP328's fixed chain code: SHA256("MuSig2MuSig2MuSig2"). */
export const BIP328_CHAIN_CODE: Uint8Array = sha256(utf8ToBytes('MuSig2MuSig2MuSig2'));

/** First hardened index: there is no aggregate private key, so only indices below it exist. */
export const HARDENED_OFFSET = 0x8000_0000;

/** Steps in a derivation path we follow. Wallets use two (branch/index); deeper claims are refused. */
export const MAX_DERIVATION_DEPTH = 8;

/** Receive and change branches of `tr(musig(...)/<0;1>/*)`. */
export const RECEIVE_BRANCH = 0;
export const CHANGE_BRANCH = 1;

/**
 * Where a path below the group key sits among the group's descriptors (descriptor.ts: the key itself,
 * `/0/*` receive, `/1/*` change): only exactly two unhardened steps on branch 1 are change. Any other
 * path still pays the group, but no wallet watching those descriptors sees it, so it is never change.
 */
export function branchOf(path: readonly number[]): 'change' | 'receive' | 'other' {
  if (path.length !== 2 || !path.every((index) => Number.isInteger(index) && index >= 0 && index < HARDENED_OFFSET)) return 'other';
  return path[0] === CHANGE_BRANCH ? 'change' : path[0] === RECEIVE_BRANCH ? 'receive' : 'other';
}

// BIP32 serialization versions: xpub on mainnet; tpub on every test network (Bitcoin Core's rule).
const MAINNET_VERSIONS: Versions = { public: 0x0488b21e, private: 0x0488ade4 };
const TEST_VERSIONS: Versions = { public: 0x043587cf, private: 0x04358394 };

function versionsOf(network: BitcoinNetwork): Versions {
  return network === 'mainnet' ? MAINNET_VERSIONS : TEST_VERSIONS;
}

/**
 * A depth-0 extended public key of a 33-byte compressed key with the BIP328 chain code (child
 * number 0, parent fingerprint 0). For a plain aggregate key this is BIP328's synthetic xpub.
 */
export function syntheticXpub(plainKey: Uint8Array, network: BitcoinNetwork): string {
  try {
    return new HDKey({ versions: versionsOf(network), publicKey: plainKey, chainCode: BIP328_CHAIN_CODE }).publicExtendedKey;
  } catch (e) {
    throw new CosignerError('INVALID_PUBLIC_KEY', 'not a compressed public key', {}, { cause: e });
  }
}

/** BIP32 key fingerprint: the first 4 bytes of HASH160 of the compressed key, big-endian. */
export function keyFingerprint(plainKey: Uint8Array): number {
  const hash = ripemd160(sha256(plainKey));
  return new DataView(hash.buffer, hash.byteOffset, 4).getUint32(0, false);
}

export interface DerivedGroupKey {
  readonly path: readonly number[];
  /** Group aggregate plus one plain tweak per BIP32 step: its xOnlyKey is the taproot internal key. */
  readonly childCtx: KeyAggContext;
  /** childCtx plus the BIP341 key-path tweak: what this key's signatures are made and verified under. */
  readonly signingCtx: KeyAggContext;
  /** x-only internal key (what PSBT_IN_TAP_BIP32_DERIVATION and PSBT_IN_TAP_INTERNAL_KEY name). */
  readonly internalKey: Uint8Array;
  /** x-only taproot output key (what the output script commits to). */
  readonly outputKey: Uint8Array;
  /** BIP32 chain code of this key: what its children are derived with. */
  readonly chainCode: Uint8Array;
}

function checkGroupCtx(group: KeyAggContext): void {
  if (group.tweaks.length !== 0) {
    throw new CosignerError('INVALID_INPUT', 'derivation starts from the untweaked group aggregate');
  }
}

function derivedKey(path: readonly number[], childCtx: KeyAggContext, chainCode: Uint8Array): DerivedGroupKey {
  const signingCtx = withTaprootTweak(childCtx);
  return Object.freeze({
    path: Object.freeze([...path]),
    childCtx,
    signingCtx,
    internalKey: childCtx.xOnlyKey,
    outputKey: signingCtx.xOnlyKey,
    chainCode,
  });
}

/** What a BIP32 step starts from and gives: a key's context (its plain tweaks so far), chain code and path. */
export type Bip328Node = Pick<DerivedGroupKey, 'path' | 'childCtx' | 'chainCode'>;

/** The root node of an untweaked aggregate: its synthetic xpub (BIP328 chain code, empty path). */
export function aggregateNode(ctx: KeyAggContext): Bip328Node {
  checkGroupCtx(ctx);
  return Object.freeze({ path: Object.freeze([]), childCtx: ctx, chainCode: BIP328_CHAIN_CODE });
}

/**
 * One unhardened BIP32 step (CKDpub) below `parent`. The child point K + I_L·G is the engine's own
 * plain tweak (BIP327 ApplyTweak, is_xonly_t = false) of the parent's context, so the step costs one
 * base-point multiplication and the child's signing context comes with it; its compressed key is
 * the next step's HMAC input. Tests derive the same keys with @scure/bip32 and compare.
 *
 * An index whose I_L is not a valid tweak, or whose child is the point at infinity (probability
 * about 2^-127), is refused rather than skipped: BIP32 says to use the next index, and which index
 * that is belongs to the caller.
 */
export function childNode(parent: Bip328Node, index: number): Bip328Node {
  const step = parent.path.length;
  if (step >= MAX_DERIVATION_DEPTH) {
    throw new CosignerError('INVALID_INPUT', `a derivation path has at most ${MAX_DERIVATION_DEPTH} steps`);
  }
  if (!Number.isInteger(index) || index < 0 || index >= HARDENED_OFFSET) {
    throw new CosignerError('INVALID_INPUT', 'derivation from an aggregate key is unhardened only', { step });
  }
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, index, false);
  const I = hmac(sha512, parent.chainCode, concatBytes(parent.childCtx.aggregateKey, data));
  const tweak = I.slice(0, 32);
  const noKey = (cause?: unknown) =>
    new CosignerError(
      'INVALID_INPUT',
      'this derivation index gives no valid key; use the next one',
      { step, index },
      cause === undefined ? undefined : { cause },
    );
  if (!Fn.isValid(Fn.fromBytes(tweak, true))) throw noKey();
  let childCtx: KeyAggContext;
  try {
    childCtx = withTweaks(parent.childCtx, [{ tweak, xOnly: false }]);
  } catch (e) {
    // The tweak is below n (checked above): the engine refuses only a child at infinity.
    if (isCosignerError(e, 'INVALID_TWEAK')) throw noKey(e);
    throw e;
  }
  return Object.freeze({ path: Object.freeze([...parent.path, index]), childCtx, chainCode: I.slice(32) });
}

/** childNode with the child's taproot key: its key-path signing context and output key. */
export function deriveChild(parent: DerivedGroupKey, index: number): DerivedGroupKey {
  const child = childNode(parent, index);
  return derivedKey(child.path, child.childCtx, child.chainCode);
}

/** The group's own key (`tr(musig(...))`), the root every derivation starts from. */
export function groupRootKey(group: KeyAggContext): DerivedGroupKey {
  checkGroupCtx(group);
  return derivedKey([], group, BIP328_CHAIN_CODE);
}

/**
 * The key at `path` below the group's synthetic xpub; the empty path is the group key itself
 * (`tr(musig(...))`). Every index must be unhardened (see deriveChild). GroupKeys caches these.
 */
export function deriveGroupKey(group: KeyAggContext, path: readonly number[]): DerivedGroupKey {
  checkGroupCtx(group);
  if (!Array.isArray(path) || path.length > MAX_DERIVATION_DEPTH) {
    throw new CosignerError('INVALID_INPUT', `a derivation path has at most ${MAX_DERIVATION_DEPTH} steps`);
  }
  return path.reduce(deriveChild, groupRootKey(group));
}
