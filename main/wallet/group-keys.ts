/**
 * The keys one group can sign for: its own taproot key, and the BIP328 children a PSBT points to
 * with a taproot BIP32 derivation. A claim is never taken on its word: the child is derived here and
 * must reproduce both the claimed internal key and the output key of the script.
 */
import { equalBytes } from '@noble/curves/utils.js';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import type { KeyAggContext } from '../musig/index.ts';
import { CosignerError } from '../errors.ts';
import { deriveChild, groupRootKey, HARDENED_OFFSET, keyFingerprint, MAX_DERIVATION_DEPTH, type DerivedGroupKey } from './bip328.ts';
import { taprootAddress } from './group.ts';

/** A PSBT_{IN,OUT}_TAP_BIP32_DERIVATION entry as @scure/btc-signer decodes it. */
export type TapDerivation = readonly [
  xOnlyKey: Uint8Array,
  value: { readonly hashes: readonly Uint8Array[]; readonly der: { readonly fingerprint: number; readonly path: readonly number[] } },
];

/** Claims naming this group that are followed per input or output: a wallet writes one. */
const MAX_CLAIMS_TRIED = 4;
/**
 * Derived keys remembered per group, least recently used first out: the inputs and outputs of one
 * PSBT (128 inputs, 256 outputs at most), and a wallet's address scan, each fit.
 */
export const MAX_CACHED_KEYS = 1024;

export class GroupKeys {
  readonly group: KeyAggContext;
  /** The group's own key, `tr(musig(...))` with no derivation. */
  readonly base: DerivedGroupKey;
  /** BIP32 fingerprint of the synthetic xpub: what derivation claims for this group carry. */
  readonly fingerprint: number;
  readonly #cache = new Map<string, DerivedGroupKey>();

  constructor(group: KeyAggContext) {
    this.base = groupRootKey(group);
    this.group = group;
    this.fingerprint = keyFingerprint(group.aggregateKey);
  }

  /** Keys held in the cache now (at most MAX_CACHED_KEYS). */
  get cachedKeys(): number {
    return this.#cache.size;
  }

  /**
   * The key at `path` (cached, so equal paths share one signing context). A key is one BIP32 step
   * from its parent, itself cached: the addresses of a branch (`0/i`) share the branch key `0`, so
   * each costs one step and its taproot tweak.
   */
  derive(path: readonly number[]): DerivedGroupKey {
    if (path.length === 0) return this.base;
    if (!Array.isArray(path) || path.length > MAX_DERIVATION_DEPTH) {
      throw new CosignerError('INVALID_INPUT', `a derivation path has at most ${MAX_DERIVATION_DEPTH} steps`);
    }
    const id = path.join('/');
    const cached = this.#cache.get(id);
    if (cached) {
      this.#cache.delete(id);
      this.#cache.set(id, cached);
      return cached;
    }
    const key = deriveChild(this.derive(path.slice(0, -1)), path[path.length - 1] as number);
    if (this.#cache.size >= MAX_CACHED_KEYS) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(id, key);
    return key;
  }

  /** The taproot address of the key at `path` (`[RECEIVE_BRANCH, i]` is receive address i). */
  address(path: readonly number[], network: BitcoinNetwork): string {
    return taprootAddress(this.derive(path).outputKey, network);
  }

  /**
   * The group key whose taproot output key is `outputKey`: the group's own, or a child named by one
   * of `claims` (key path only: no leaf hashes; this group's fingerprint; unhardened; at most
   * MAX_DERIVATION_DEPTH steps) whose derivation reproduces the claimed internal key and `outputKey`.
   */
  match(outputKey: Uint8Array, claims: readonly TapDerivation[] = []): DerivedGroupKey | undefined {
    if (equalBytes(outputKey, this.base.outputKey)) return this.base;
    let tried = 0;
    for (const [xOnlyKey, { hashes, der }] of claims) {
      if (hashes.length !== 0 || der.fingerprint !== this.fingerprint) continue;
      if (der.path.length === 0 || der.path.length > MAX_DERIVATION_DEPTH) continue;
      if (der.path.some((index) => index >= HARDENED_OFFSET)) continue;
      if (++tried > MAX_CLAIMS_TRIED) return undefined;
      const key = this.derive(der.path);
      if (equalBytes(key.internalKey, xOnlyKey) && equalBytes(key.outputKey, outputKey)) return key;
    }
    return undefined;
  }
}
