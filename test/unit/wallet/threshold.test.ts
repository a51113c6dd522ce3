/**
 * Threshold group outputs checked by another implementation: bitcoinjs-lib (with tiny-secp256k1)
 * builds each taproot output from the internal key and a script tree whose leaf scripts it compiles
 * itself, from keys our MuSig2 engine derives its own way (deriveGroupKey, not the BIP32 library
 * GroupOutputs uses). The tree shapes are written out here, not computed. BIP390's published
 * vectors check the two halves: a musig() internal key next to a leaf, and a musig() leaf key.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { HDKey } from '@scure/bip32';
import * as bitcoin from 'bitcoinjs-lib';
import { tapleafHash } from 'bitcoinjs-lib/src/payments/bip341';
import * as ecc from 'tiny-secp256k1';
import { beforeAll, describe, expect, it } from 'vitest';
import { aggregateKeys, sortKeys } from '../../../main/musig/index.ts';
import { deriveGroupKey } from '../../../main/wallet/bip328.ts';
import { describeGroup, groupKeyAgg } from '../../../main/wallet/group.ts';
import { GroupKeys } from '../../../main/wallet/group-keys.ts';
import { pkLeafScript, taprootCommitment } from '../../../main/wallet/tap-tree.ts';
import { GroupOutputs } from '../../../main/wallet/threshold.ts';
import { N_OF_N, type GroupPolicy } from '../../../main/wallet/threshold-policy.ts';

const key = (i: number) => bytesToHex(secp256k1.getPublicKey(secp256k1.Point.Fn.toBytes(BigInt(i))));
const KEYS = [11, 12, 13, 14, 15].map(key);
/** The group's keys as musig() and the group sort them. */
const sortedKeys = (n: number) => sortKeys(KEYS.slice(0, n).map((k) => hexToBytes(k)));

type Shape = number | [Shape, Shape];

interface Case {
  readonly name: string;
  readonly n: number;
  readonly policy: GroupPolicy;
  /** Positions in the sorted keys, in leaf order. */
  readonly subsets: number[][];
  /** Leaf indices (subsets, then the recovery leaf) as the tree holds them. */
  readonly shape: Shape;
}

const PAIRS = [
  [0, 1],
  [0, 2],
  [1, 2],
];
const TRIPLES = [
  [0, 1, 2],
  [0, 1, 3],
  [0, 1, 4],
  [0, 2, 3],
  [0, 2, 4],
  [0, 3, 4],
  [1, 2, 3],
  [1, 2, 4],
  [1, 3, 4],
  [2, 3, 4],
];
const SHAPE_10: Shape = [
  [
    [0, 1],
    [2, [3, 4]],
  ],
  [
    [5, 6],
    [7, [8, 9]],
  ],
];
const SHAPE_11: Shape = [
  [
    [0, 1],
    [2, [3, 4]],
  ],
  [
    [5, [6, 7]],
    [8, [9, 10]],
  ],
];

const CASES: Case[] = [
  { name: '2-of-3', n: 3, policy: { kind: 'k-of-n', k: 2 }, subsets: PAIRS, shape: [0, [1, 2]] },
  {
    name: '2-of-3, outside recovery key after 144 blocks',
    n: 3,
    policy: { kind: 'k-of-n', k: 2, recovery: { keys: [key(99)], olderBlocks: 144 } },
    subsets: PAIRS,
    shape: [
      [0, 1],
      [2, 3],
    ],
  },
  { name: '3-of-5', n: 5, policy: { kind: 'k-of-n', k: 3 }, subsets: TRIPLES, shape: SHAPE_10 },
  {
    name: '3-of-5, recovery by two members after 4320 blocks',
    n: 5,
    policy: { kind: 'k-of-n', k: 3, recovery: { keys: [KEYS[4]!, KEYS[0]!], olderBlocks: 4320 } },
    subsets: TRIPLES,
    shape: SHAPE_11,
  },
  {
    name: '3-of-3 (n-of-n), recovery key after 10 blocks (OP_10)',
    n: 3,
    policy: { kind: 'n-of-n', recovery: { keys: [key(98)], olderBlocks: 10 } },
    subsets: [],
    shape: 0,
  },
];

const PATHS = [[], [0, 0], [0, 1], [0, 41], [1, 0], [1, 7]];

/** The x-only key of a MuSig2 aggregate at `path`, through the engine's BIP328 derivation. */
function engineKey(keys: readonly Uint8Array[], path: readonly number[]): Uint8Array {
  return deriveGroupKey(aggregateKeys(sortKeys([...keys])), path).internalKey;
}

/** The leaf scripts, compiled by bitcoinjs-lib from keys the engine derives. */
function expectedScripts(c: Case, path: readonly number[]): Uint8Array[] {
  const groupKeys = sortedKeys(c.n);
  const scripts = c.subsets.map((positions) =>
    bitcoin.script.compile([
      engineKey(
        positions.map((p) => groupKeys[p]!),
        path,
      ),
      bitcoin.opcodes.OP_CHECKSIG!,
    ]),
  );
  const recovery = c.policy.recovery;
  if (recovery) {
    const keys = recovery.keys.map((k) => hexToBytes(k));
    const leafKey = keys.length === 1 ? keys[0]!.subarray(1) : engineKey(keys, path);
    scripts.push(
      bitcoin.script.compile([
        leafKey,
        bitcoin.opcodes.OP_CHECKSIGVERIFY!,
        bitcoin.script.number.encode(recovery.olderBlocks),
        bitcoin.opcodes.OP_CHECKSEQUENCEVERIFY!,
      ]),
    );
  }
  return scripts;
}

function taptree(shape: Shape, scripts: Uint8Array[]): bitcoin.payments.Payment['scriptTree'] & object {
  if (typeof shape === 'number') return { output: scripts[shape]!, version: 0xc0 };
  return [taptree(shape[0], scripts), taptree(shape[1], scripts)] as never;
}

describe('threshold group outputs, checked with bitcoinjs-lib', () => {
  beforeAll(() => bitcoin.initEccLib(ecc));

  describe.each(CASES)('$name', (c) => {
    const outputs = new GroupOutputs(KEYS.slice(0, c.n), c.policy);

    it.each(PATHS.map((p) => [p.join('/') || 'own', p] as const))(
      'at %s: internal key, leaf scripts and hashes, merkle root, output key, address and control blocks',
      (_label, path) => {
        for (const network of ['mainnet', 'regtest'] as const) {
          const out = outputs.at(path, network);
          const internalPubkey = deriveGroupKey(groupKeyAgg(KEYS.slice(0, c.n)), path).internalKey;
          expect(bytesToHex(out.internalKey)).toBe(bytesToHex(internalPubkey));

          const scripts = expectedScripts(c, path);
          expect(out.leaves.map((l) => bytesToHex(l.script))).toEqual(scripts.map((s) => bytesToHex(s)));
          const scriptTree = taptree(c.shape, scripts);
          const net = network === 'mainnet' ? bitcoin.networks.bitcoin : bitcoin.networks.regtest;
          const pay = bitcoin.payments.p2tr({ internalPubkey, scriptTree, network: net });
          expect(out.address).toBe(pay.address);
          expect(bytesToHex(out.outputKey)).toBe(bytesToHex(pay.pubkey!));
          expect(bytesToHex(out.merkleRoot!)).toBe(bytesToHex(pay.hash!));

          out.leaves.forEach((leaf, i) => {
            expect(bytesToHex(leaf.leafHash)).toBe(bytesToHex(tapleafHash({ output: scripts[i]!, version: 0xc0 })));
            const spend = bitcoin.payments.p2tr({
              internalPubkey,
              scriptTree,
              redeem: { output: scripts[i]!, redeemVersion: 0xc0 },
              network: net,
            });
            const [, controlBlock] = spend.witness!;
            expect(bytesToHex(leaf.controlBlock)).toBe(bytesToHex(controlBlock!));
            expect(leaf.depth).toBe((controlBlock!.length - 33) / 32);
            // bitcoinjs-lib recomputes the output key from the witness and refuses a mismatch.
            expect(() => bitcoin.payments.p2tr({ pubkey: out.outputKey, witness: [leaf.script, leaf.controlBlock] })).not.toThrow();
          });
        }
      },
    );

    it('names the signers of each leaf; the recovery leaf is last and among the deepest', () => {
      const out = outputs.at([0, 3], 'mainnet');
      const groupKeys = sortedKeys(c.n).map((k) => bytesToHex(k));
      const subsetLeaves = out.leaves.filter((l) => l.kind === 'subset');
      expect(subsetLeaves.map((l) => l.signers)).toEqual(c.subsets.map((positions) => positions.map((p) => groupKeys[p])));
      const last = out.leaves[out.leaves.length - 1]!;
      if (c.policy.recovery) {
        expect(last.kind).toBe('recovery');
        expect(last.depth).toBe(Math.max(...out.leaves.map((l) => l.depth)));
        expect(last.kind === 'recovery' && last.olderBlocks).toBe(c.policy.recovery.olderBlocks);
        expect(last.signers).toEqual([...c.policy.recovery.keys].sort());
      }
    });
  });

  it('an n-of-n group with no recovery path keeps its key-path-only outputs, byte for byte', () => {
    for (const n of [1, 2, 3, 16]) {
      const keys = Array.from({ length: n }, (_, i) => key(i + 1));
      const outputs = new GroupOutputs(keys, N_OF_N);
      const groupKeys = new GroupKeys(groupKeyAgg(keys));
      expect(outputs.hasScriptTree).toBe(false);
      expect(outputs.address([], 'mainnet')).toBe(describeGroup('g', keys, 'mainnet').address);
      for (const path of PATHS) {
        const out = outputs.at(path, 'regtest');
        expect(out.address).toBe(groupKeys.address(path, 'regtest'));
        expect(bytesToHex(out.outputKey)).toBe(bytesToHex(groupKeys.derive(path).outputKey));
        expect([out.merkleRoot, out.leaves]).toEqual([undefined, []]);
      }
    }
  });

  it('the same keys in any order give the same outputs', () => {
    const a = new GroupOutputs(KEYS, { kind: 'k-of-n', k: 3 });
    const b = new GroupOutputs([...KEYS].reverse(), { kind: 'k-of-n', k: 3 });
    expect(a.address([0, 5], 'mainnet')).toBe(b.address([0, 5], 'mainnet'));
    expect(a.subsets).toEqual(b.subsets);
  });

  it('refuses hardened steps and paths that are too deep, with a typed error', () => {
    const outputs = new GroupOutputs(KEYS.slice(0, 3), { kind: 'k-of-n', k: 2 });
    expect(() => outputs.at([0x8000_0000], 'mainnet')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => outputs.at(Array(9).fill(0), 'mainnet')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => outputs.at([0, -1], 'mainnet')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

// BIP390 test vectors (bitcoin/bips bip-0390.mediawiki, "Test Vectors"): children 0, 1 and 2.
const XPUB_A = 'xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL';
const XPUB_B = 'xpub68NZiKmJWnxxS6aaHmn81bvJeTESw724CRDs6HbuccFQN9Ku14VQrADWgqbhhTHBaohPX4CjNLf9fq9MYo6oDaPPLPxSb7gwQN3ih19Zm4Y';
const F9 = hexToBytes('f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9');
const MUSIG_INTERNAL_PK_LEAF = [
  '51201d377b637b5c73f670f5c8a96a2c0bb0d1a682a1fca6aba91fe673501a189782',
  '51208950c83b117a6c208d5205ffefcf75b187b32512eb7f0d8577db8d9102833036',
  '5120a49a477c61df73691b77fcd563a80a15ea67bb9c75470310ce5c0f25918db60d',
];
const PK_INTERNAL_MUSIG_LEAF = [
  '512068983d461174afc90c26f3b2821d8a9ced9534586a756763b68371a404635cc8',
  '5120368e2d864115181bdc8bb5dc8684be8d0760d5c33315570d71a21afce4afd43e',
  '512097a1e6270b33ad85744677418bae5f59ea9136027223bc6e282c47c167b471d5',
];

describe('BIP390 vectors', () => {
  const a = bytesToHex(HDKey.fromExtendedKey(XPUB_A).publicKey!);
  const b = bytesToHex(HDKey.fromExtendedKey(XPUB_B).publicKey!);

  it.each([0, 1, 2])('tr(musig(xpubA,xpubB)/0/*,pk(f9308a…)) child %i: our internal key at /0/i under a pk leaf', (i) => {
    const internalKey = new GroupOutputs([a, b], N_OF_N).at([0, i], 'mainnet').internalKey;
    expect(`5120${bytesToHex(taprootCommitment(internalKey, pkLeafScript(F9), 'mainnet').outputKey)}`).toBe(MUSIG_INTERNAL_PK_LEAF[i]);
  });

  it.each([0, 1, 2])('tr(f9308a…,pk(musig(xpubA,xpubB)/0/*)) child %i: our subset leaf key at /0/i', (i) => {
    // A 2-of-3 of A, B and a third key has the leaf pk(musig(A,B)/0/*).
    const outputs = new GroupOutputs([a, b, key(5)], { kind: 'k-of-n', k: 2 });
    const leaf = outputs.at([0, i], 'mainnet').leaves.find((l) => [a, b].every((k) => l.signers.includes(k)))!;
    expect(bytesToHex(leaf.script)).toBe(bytesToHex(pkLeafScript(leaf.key)));
    expect(`5120${bytesToHex(taprootCommitment(F9, leaf.script, 'mainnet').outputKey)}`).toBe(PK_INTERNAL_MUSIG_LEAF[i]);
  });

  it('tr(musig(02f9…,03df…,0235…)) is the own output of that n-of-n group', () => {
    const keys = [
      '02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9',
      '03dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
      '023590a94e768f8e1815c2f24b4d80a8e3149316c3518ce7b7ad338368d038ca66',
    ];
    expect(bytesToHex(new GroupOutputs(keys, N_OF_N).at([], 'mainnet').outputKey)).toBe(
      '79e6c3e628c9bfbce91de6b7fb28e2aec7713d377cf260ab599dcbc40e542312',
    );
  });
});
