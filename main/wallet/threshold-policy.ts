/**
 * What a group needs to spend: all n of its signers (the MuSig2 key path, every group so far), or
 * any k of them (one `pk(musig(S))` tap leaf per k-subset S), and optionally a recovery path: a key,
 * or a MuSig2 subset, that can spend alone once the coins are `olderBlocks` blocks old.
 *
 * Pure data and checks; the taproot output is built in threshold.ts, the descriptors in
 * threshold-descriptor.ts. docs/GROUPS.md states the bounds and the order of the leaves.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { combinations } from '@scure/btc-signer';
import { CosignerError } from '../errors.ts';
import { sortKeys } from '../musig/index.ts';
import { MAX_GROUP_SIGNERS } from './group.ts';

/** A recovery path: `and_v(v:pk(K),older(olderBlocks))`, K one key or the MuSig2 key of a subset. */
export interface RecoveryPath {
  /** 33-byte compressed keys, hex: one key, or the keys of a MuSig2 subset. Need not be members. */
  readonly keys: readonly string[];
  /** BIP68 relative lock in blocks, as miniscript older(N) with N < 2^16 (no time-based locks). */
  readonly olderBlocks: number;
}

export type GroupPolicy = ({ readonly kind: 'n-of-n' } | { readonly kind: 'k-of-n'; readonly k: number }) & {
  readonly recovery?: RecoveryPath;
};

/** Every group saved before threshold groups existed, and the default. */
export const N_OF_N: GroupPolicy = Object.freeze({ kind: 'n-of-n' });

/**
 * Signers of a k-of-n group. Every leaf key is BIP32-derived for every address, so an address
 * costs about one derivation per leaf (test/bench/threshold.bench.ts, on the loaded 2-core test
 * machine: 2-of-3 8 ms, 3-of-5 21 ms, 4-of-7 61 ms an address; the ranged descriptor of 4-of-7
 * is 17 080 characters). n = 7 allows C(7,3) = C(7,4) = 35 leaves; n = 8 would allow
 * C(8,4) = 70, doubling both the time of every address a review derives and the descriptor.
 */
export const MAX_THRESHOLD_SIGNERS = 7;
/** C(7,3) = C(7,4): the most leaves any allowed k-of-n has (one more with a recovery leaf). */
export const MAX_SUBSET_LEAVES = 35;
/** BIP68 block-based relative locks are 16 bits (bit 22 set would make them time-based). */
export const MAX_OLDER_BLOCKS = 0xffff;

function invalid(message: string, context: Record<string, number> = {}): CosignerError {
  return new CosignerError('INVALID_INPUT', message, context);
}

/** Throws INVALID_INPUT unless `policy` fits a group of `n` signers; returns it with sorted recovery keys. */
export function checkPolicy(policy: GroupPolicy, n: number): GroupPolicy {
  if (typeof policy !== 'object' || policy === null) throw invalid('a group policy is an object');
  let spend: GroupPolicy;
  if (policy.kind === 'n-of-n') {
    spend = N_OF_N;
  } else if (policy.kind === 'k-of-n') {
    const { k } = policy;
    if (!Number.isInteger(n) || n < 3 || n > MAX_THRESHOLD_SIGNERS) {
      throw invalid(`a k-of-n group has 3 to ${MAX_THRESHOLD_SIGNERS} signers`, { n });
    }
    if (!Number.isInteger(k) || k < 2 || k >= n) throw invalid('a k-of-n group needs 2 ≤ k < n', { k, n });
    spend = Object.freeze({ kind: 'k-of-n', k });
  } else {
    throw invalid('a group policy is n-of-n or k-of-n');
  }
  if (policy.recovery === undefined) return spend;
  return Object.freeze({ ...spend, recovery: checkRecovery(policy.recovery) });
}

function checkRecovery(recovery: RecoveryPath): RecoveryPath {
  if (typeof recovery !== 'object' || recovery === null || !Array.isArray(recovery.keys)) {
    throw invalid('a recovery path has keys and olderBlocks');
  }
  const { keys, olderBlocks } = recovery;
  if (keys.length === 0 || keys.length > MAX_GROUP_SIGNERS) {
    throw invalid(`a recovery path has 1 to ${MAX_GROUP_SIGNERS} keys`, { count: keys.length });
  }
  const bytes = keys.map((key, keyIndex) => recoveryKey(key, keyIndex));
  if (new Set(bytes.map((key) => bytesToHex(key))).size !== keys.length) {
    throw new CosignerError('DUPLICATE_SIGNER', 'a recovery key is listed twice');
  }
  // Zero would make the leaf spendable at once; above 2^16 - 1 the number means seconds, not blocks.
  if (!Number.isInteger(olderBlocks) || olderBlocks < 1 || olderBlocks > MAX_OLDER_BLOCKS) {
    throw invalid(`olderBlocks is 1 to ${MAX_OLDER_BLOCKS}`, { olderBlocks: Number(olderBlocks) });
  }
  // musig() sorts its keys, so the sorted list is the one a descriptor of the leaf writes.
  const sorted = sortKeys(bytes).map((key) => bytesToHex(key));
  return Object.freeze({ keys: Object.freeze(sorted), olderBlocks });
}

/** A recovery key must be a point: a bad x in the leaf script would make the path unspendable. */
function recoveryKey(key: string, keyIndex: number): Uint8Array {
  if (typeof key !== 'string' || !/^0[23][0-9a-fA-F]{64}$/.test(key)) {
    throw new CosignerError('INVALID_PUBLIC_KEY', 'a recovery key is a 33-byte compressed key in hex', { keyIndex });
  }
  const bytes = hexToBytes(key);
  try {
    secp256k1.Point.fromBytes(bytes);
  } catch (e) {
    throw new CosignerError('INVALID_PUBLIC_KEY', 'a recovery key is not a point on the curve', { keyIndex }, { cause: e });
  }
  return bytes;
}

/**
 * The k-subsets of positions 0..n-1 in the group's sorted key list, in lexicographic order of
 * positions ([0,1], [0,2], [1,2] for 2-of-3): the canonical order of the leaves. Empty for n-of-n.
 */
export function spendingSubsets(policy: GroupPolicy, n: number): readonly (readonly number[])[] {
  if (policy.kind === 'n-of-n') return [];
  const positions = Array.from({ length: n }, (_, i) => i);
  return combinations(policy.k, positions, MAX_SUBSET_LEAVES);
}
