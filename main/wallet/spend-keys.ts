/**
 * The spending keys of one group with a policy, for many inputs at once: its outputs at BIP328
 * derivations (each a derivation of every MuSig2 key in the tree, which gives their signing
 * contexts, and a taproot commitment) and the signing key of a path at each (pathKey), cached like
 * GroupKeys caches key-path keys, so a PSBT's inputs and its change outputs share them. A derivation claim names where to look; the output found
 * there is derived here and must reproduce the output key of the script, or nothing matches.
 */
import { equalBytes } from '@noble/curves/utils.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { aggregateKeys, type KeyAggContext } from '../musig/index.ts';
import { HARDENED_OFFSET, keyFingerprint, MAX_DERIVATION_DEPTH } from './bip328.ts';
import { MAX_CACHED_KEYS, type TapDerivation } from './group-keys.ts';
import { pathKey, type PathKey, type SpendPath } from './spend-path.ts';
import type { GroupOutputs, OutputContexts, ThresholdOutput } from './threshold.ts';

/**
 * Derivation paths followed per input or output. Every key of one output is at the same path, so an
 * honest PSBT names one; each path followed costs an output's derivation (every key of the tree and
 * a taproot commitment, a few milliseconds: test/bench/threshold.bench.ts), which a hostile PSBT
 * must not multiply.
 */
const MAX_PATHS_TRIED = 1;
/**
 * Outputs remembered: a PSBT's inputs and change (at most 128 + 256) and a wallet's scan fit. Each
 * holds its leaves' scripts and control blocks (35 leaves at the bound: about 40 kB).
 */
const MAX_CACHED_OUTPUTS = 512;
/**
 * Signing contexts of the outputs derived last (about 3 kB per key: 115 kB at the bound): an input
 * is matched to its output, then its path key is made from them at once. A path key asked for
 * later re-derives its output.
 */
const MAX_CACHED_CONTEXTS = 8;

/** A least-recently-used map bounded by `limit` (MAX_CACHED_KEYS unless said). */
function remembered<T>(cache: Map<string, T>, id: string, make: () => T, limit = MAX_CACHED_KEYS): T {
  const hit = cache.get(id);
  if (hit !== undefined) {
    cache.delete(id);
    cache.set(id, hit);
    return hit;
  }
  const made = make();
  if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
  cache.set(id, made);
  return made;
}

export class SpendKeys {
  readonly outputs: GroupOutputs;
  readonly network: BitcoinNetwork;
  /** BIP32 fingerprints of the MuSig2 aggregates the tree's keys are derived from: the key path's
   *  and every leaf's. A derivation claim carrying one of them names this group. */
  readonly fingerprints: ReadonlySet<number>;
  readonly #aggregates = new Map<string, KeyAggContext>();
  readonly #outputs = new Map<string, ThresholdOutput>();
  readonly #contexts = new Map<string, OutputContexts>();
  readonly #pathKeys = new Map<string, PathKey>();

  constructor(outputs: GroupOutputs, network: BitcoinNetwork) {
    this.outputs = outputs;
    this.network = network;
    this.#aggregates.set(outputs.group.publicKeys.map((k) => bytesToHex(k)).join(','), outputs.group);
    const prints = [keyFingerprint(outputs.group.aggregateKey)];
    for (const leaf of this.at([]).leaves) {
      if (leaf.signers.length > 1) prints.push(keyFingerprint(this.aggregate(leaf.signers.map((k) => hexToBytes(k))).aggregateKey));
    }
    this.fingerprints = new Set(prints);
  }

  /** The MuSig2 aggregate of sorted keys (cached): a leaf's untweaked key, before derivation. */
  aggregate(keys: readonly Uint8Array[]): KeyAggContext {
    return remembered(this.#aggregates, keys.map((k) => bytesToHex(k)).join(','), () => aggregateKeys(keys));
  }

  /** The output at `derivation` (`[]`: the group's own). */
  at(derivation: readonly number[]): ThresholdOutput {
    return remembered(this.#outputs, derivation.join('/'), () => this.#derived(derivation).output, MAX_CACHED_OUTPUTS);
  }

  /** The signing key of `path` at `derivation` (pathKey, from the cached outputs and derivations). */
  key(derivation: readonly number[], path: SpendPath): PathKey {
    const id = `${derivation.join('/')}:${path.kind === 'key' ? 'key' : path.leaf}`;
    return remembered(this.#pathKeys, id, () =>
      pathKey({ group: this.outputs.group, withContexts: (d) => this.#withContexts(d) }, derivation, path, this.network),
    );
  }

  /**
   * The group's output whose key is `outputKey`: its own, or one at a derivation a claim names
   * (one of this group's fingerprints; unhardened; at most MAX_DERIVATION_DEPTH steps), derived here.
   */
  match(outputKey: Uint8Array, claims: readonly TapDerivation[] = []): ThresholdOutput | undefined {
    const own = this.at([]);
    if (equalBytes(outputKey, own.outputKey)) return own;
    const tried = new Set<string>();
    for (const [, { der }] of claims) {
      if (!this.fingerprints.has(der.fingerprint)) continue;
      if (der.path.length === 0 || der.path.length > MAX_DERIVATION_DEPTH) continue;
      if (der.path.some((index) => index >= HARDENED_OFFSET)) continue;
      const id = der.path.join('/');
      if (tried.has(id)) continue;
      tried.add(id);
      if (tried.size > MAX_PATHS_TRIED) return undefined;
      const output = this.at(der.path);
      if (equalBytes(output.outputKey, outputKey)) return output;
    }
    return undefined;
  }

  /** The cached output at `derivation` with its signing contexts (re-derived if they were let go). */
  #withContexts(derivation: readonly number[]): { output: ThresholdOutput; contexts: OutputContexts } {
    const id = derivation.join('/');
    const contexts = this.#contexts.get(id);
    if (contexts !== undefined) return { output: this.at(derivation), contexts };
    const derived = this.#derived(derivation);
    return { output: remembered(this.#outputs, id, () => derived.output, MAX_CACHED_OUTPUTS), contexts: derived.contexts };
  }

  #derived(derivation: readonly number[]): { output: ThresholdOutput; contexts: OutputContexts } {
    const derived = this.outputs.withContexts(derivation, this.network);
    remembered(this.#contexts, derivation.join('/'), () => derived.contexts, MAX_CACHED_CONTEXTS);
    return derived;
  }
}
