/**
 * GroupOutputs derives every key through the MuSig2 engine and builds the taproot commitment with
 * its own BIP341 hashing (tap-tree.ts). Both are checked here, for many derivations and trees, by
 * code that is not ours: every derived key against @scure/bip32's CKDpub of the aggregate's
 * synthetic xpub, every commitment (merkle root, output key, address, leaf hashes, control blocks)
 * against @scure/btc-signer's p2tr and bitcoinjs-lib's p2tr (with tiny-secp256k1). Path keys made
 * from a SpendKeys cache are the ones made afresh.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { HDKey } from '@scure/bip32';
import { p2tr, TaprootControlBlock } from '@scure/btc-signer';
import * as bitcoin from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BitcoinNetwork } from '../../../preload/contract.ts';
import { aggregateKeys } from '../../../main/musig/index.ts';
import { BIP328_CHAIN_CODE } from '../../../main/wallet/bip328.ts';
import { BTC_NETWORKS } from '../../../main/wallet/networks.ts';
import { SpendKeys } from '../../../main/wallet/spend-keys.ts';
import { KEY_PATH, pathKey, type SpendPath } from '../../../main/wallet/spend-path.ts';
import { balancedTree, taprootCommitment, type TreeShape } from '../../../main/wallet/tap-tree.ts';
import { GroupOutputs } from '../../../main/wallet/threshold.ts';
import type { GroupPolicy } from '../../../main/wallet/threshold-policy.ts';

beforeAll(() => bitcoin.initEccLib(ecc));

const key = (i: number) => bytesToHex(secp256k1.getPublicKey(secp256k1.Point.Fn.toBytes(BigInt(i))));
const KEYS = [31, 32, 33, 34, 35].map(key);

const POLICIES: [string, number, GroupPolicy][] = [
  ['2-of-3 + recovery key', 3, { kind: 'k-of-n', k: 2, recovery: { keys: [key(77)], olderBlocks: 4320 } }],
  ['3-of-5 + recovery pair', 5, { kind: 'k-of-n', k: 3, recovery: { keys: [KEYS[1]!, key(78)], olderBlocks: 144 } }],
  ['2-of-2 n-of-n + recovery pair', 2, { kind: 'n-of-n', recovery: { keys: [key(79), key(80)], olderBlocks: 20 } }],
  ['3-of-3 n-of-n', 3, { kind: 'n-of-n' }],
];

const DERIVATIONS: number[][] = [
  [],
  ...Array.from({ length: 24 }, (_, i) => [0, i]),
  ...Array.from({ length: 6 }, (_, i) => [1, i]),
  [0, 0x7fff_ffff],
  [5],
  [3, 7, 11],
  [0, 1, 2, 3, 4, 5, 6, 7],
];

/** A taproot tree as @scure/btc-signer's p2tr takes it (a pair stays a pair: our shape is kept). */
type ScureTree = { script: Uint8Array; leafVersion: number } | ScureTree[];
const scureTree = (t: TreeShape<Uint8Array>): ScureTree =>
  t instanceof Uint8Array ? { script: t, leafVersion: 0xc0 } : [scureTree(t[0]), scureTree(t[1])];
const bitcoinjsTree = (t: TreeShape<Uint8Array>): NonNullable<bitcoin.payments.Payment['scriptTree']> =>
  t instanceof Uint8Array ? { output: t, version: 0xc0 } : ([bitcoinjsTree(t[0]), bitcoinjsTree(t[1])] as never);

/** Every field of our commitment of `tree` to `internalKey`, as both libraries compute it. */
function expectLibrariesAgree(internalKey: Uint8Array, tree: TreeShape<Uint8Array> | undefined, network: BitcoinNetwork): void {
  const ours = taprootCommitment(internalKey, tree, network);
  if (tree === undefined) {
    const scure = p2tr(internalKey, undefined, BTC_NETWORKS[network]);
    expect([ours.address, bytesToHex(ours.outputKey), ours.merkleRoot]).toEqual([
      scure.address,
      bytesToHex(scure.tweakedPubkey),
      undefined,
    ]);
  } else {
    const scure = p2tr(internalKey, scureTree(tree), BTC_NETWORKS[network], true);
    expect([ours.address, bytesToHex(ours.outputKey), bytesToHex(ours.merkleRoot!)]).toEqual([
      scure.address,
      bytesToHex(scure.tweakedPubkey),
      bytesToHex(scure.tapMerkleRoot),
    ]);
    expect(ours.leaves.length).toBe(scure.leaves.length);
    ours.leaves.forEach((leaf) => {
      const i = scure.leaves.findIndex((l) => bytesToHex(l.script) === bytesToHex(leaf.script));
      expect(bytesToHex(leaf.leafHash)).toBe(bytesToHex(scure.leaves[i]!.hash));
      expect(bytesToHex(leaf.controlBlock)).toBe(bytesToHex(TaprootControlBlock.encode(scure.tapLeafScript![i]![0])));
    });
  }
  const net =
    network === 'mainnet' ? bitcoin.networks.bitcoin : network === 'regtest' ? bitcoin.networks.regtest : bitcoin.networks.testnet;
  const scriptTree = tree === undefined ? undefined : bitcoinjsTree(tree);
  const pay = bitcoin.payments.p2tr({ internalPubkey: internalKey, ...(scriptTree ? { scriptTree } : {}), network: net });
  expect(ours.address).toBe(pay.address);
  expect(bytesToHex(ours.outputKey)).toBe(bytesToHex(pay.pubkey!));
  ours.leaves.forEach((leaf) => {
    const spend = bitcoin.payments.p2tr({
      internalPubkey: internalKey,
      scriptTree,
      redeem: { output: leaf.script, redeemVersion: 0xc0 },
      network: net,
    });
    expect(bytesToHex(leaf.controlBlock)).toBe(bytesToHex(spend.witness![1]!));
    expect(leaf.depth).toBe((leaf.controlBlock.length - 33) / 32);
  });
}

/** The x-only key of the aggregate of `keys` at `path`, by @scure/bip32 from its synthetic xpub. */
function bip32Key(keys: readonly string[], path: readonly number[]): string {
  const root = new HDKey({ publicKey: aggregateKeys(keys.map((k) => hexToBytes(k))).aggregateKey, chainCode: BIP328_CHAIN_CODE });
  return bytesToHex(path.reduce((node, index) => node.deriveChild(index), root).publicKey!.subarray(1));
}

describe.each(POLICIES)('%s outputs at many derivations', (_name, n, policy) => {
  const outputs = new GroupOutputs(KEYS.slice(0, n), policy);
  const members = outputs.group.publicKeys.map((k) => bytesToHex(k));

  it('every key is the one @scure/bip32 derives; its signing context is that key', () => {
    for (const path of DERIVATIONS) {
      const { output: out, contexts } = outputs.withContexts(path, 'mainnet');
      expect(bytesToHex(out.internalKey)).toBe(bip32Key(members, path));
      expect(bytesToHex(contexts.internal.xOnlyKey)).toBe(bytesToHex(out.internalKey));
      out.leaves.forEach((leaf, i) => {
        const derived = leaf.signers.length > 1;
        const ctx = contexts.leaves[i];
        expect(bytesToHex(leaf.key)).toBe(derived ? bip32Key(leaf.signers, path) : leaf.signers[0]!.slice(2));
        expect(ctx && bytesToHex(ctx.xOnlyKey)).toBe(derived ? bytesToHex(leaf.key) : undefined);
        expect(ctx?.publicKeys.map((k) => bytesToHex(k))).toEqual(derived ? leaf.signers : undefined);
      });
    }
  });

  it.each(['mainnet', 'regtest'] as const)('on %s, the commitment is the one @scure/btc-signer and bitcoinjs-lib compute', (network) => {
    for (const path of DERIVATIONS) {
      const out = outputs.at(path, network);
      const scripts = out.leaves.map((leaf) => leaf.script);
      expectLibrariesAgree(out.internalKey, scripts.length === 0 ? undefined : balancedTree(scripts), network);
    }
  });
});

describe('taprootCommitment of trees of every shape the policies use, and more', () => {
  const internal = (i: number) => secp256k1.getPublicKey(secp256k1.Point.Fn.toBytes(BigInt(1000 + i)), true).subarray(1);
  // Scripts of many lengths, some past a one-byte CompactSize (253 bytes and more), of OP_1..OP_16
  // so that @scure/btc-signer can parse them.
  const script = (i: number) =>
    Uint8Array.from({ length: [34, 38, 1, 252, 253, 300, 70_000][i % 7]! }, (_, j) => 0x51 + ((i * 31 + j) % 16));

  it('balanced trees of 1 to 36 leaves, and unbalanced ones, with odd and even output keys', () => {
    let oddOutputs = 0;
    for (let m = 1; m <= 36; m++) {
      const scripts = Array.from({ length: m }, (_, i) => script(i + m));
      expectLibrariesAgree(internal(m), balancedTree(scripts), m % 2 === 0 ? 'mainnet' : 'testnet');
      if (((taprootCommitment(internal(m), balancedTree(scripts), 'mainnet').leaves[0]!.controlBlock[0] as number) & 1) === 1) oddOutputs++;
    }
    expect(oddOutputs).toBeGreaterThan(0);
    const [a, b, c, d] = [0, 1, 2, 3].map(script) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    const lopsided: TreeShape<Uint8Array> = [a, [b, [c, d]]];
    expectLibrariesAgree(internal(40), lopsided, 'regtest');
    expectLibrariesAgree(internal(41), [[[a, b], c], d], 'mainnet');
  });

  it('a key-path-only output', () => {
    for (let i = 0; i < 8; i++) expectLibrariesAgree(internal(i), undefined, 'mainnet');
  });

  it('refuses an internal key that is not on the curve, with a typed error', () => {
    // x = 5: x³ + 7 = 132 is not a square mod p.
    const notOnCurve = new Uint8Array(32);
    notOnCurve[31] = 5;
    expect(() => taprootCommitment(notOnCurve, script(0), 'mainnet')).toThrow(expect.objectContaining({ code: 'INVALID_PUBLIC_KEY' }));
  });
});

describe('SpendKeys', () => {
  it('a path key asked for after its output’s signing contexts were let go is the same key, on the cached output', () => {
    const outputs = new GroupOutputs(KEYS.slice(0, 5), POLICIES[1]![2]);
    const spend = new SpendKeys(outputs, 'regtest');
    const first = spend.at([0, 0]);
    for (let i = 1; i < 40; i++) spend.at([0, i]);
    const paths: SpendPath[] = [KEY_PATH, ...first.leaves.map((_, leaf): SpendPath => ({ kind: 'leaf', leaf }))];
    for (const path of paths) {
      const cached = spend.key([0, 0], path);
      const fresh = pathKey(outputs, [0, 0], path, 'regtest');
      expect(cached.output).toBe(first);
      expect(bytesToHex(cached.verifyKey)).toBe(bytesToHex(fresh.verifyKey));
      expect(cached.ctx && bytesToHex(cached.ctx.aggregateKey)).toBe(fresh.ctx && bytesToHex(fresh.ctx.aggregateKey));
    }
  });
});
