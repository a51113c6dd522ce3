/**
 * Threshold group descriptors: the written form (checksums from BIP380's reference Python code,
 * run on strings written out here), and what they mean. A small reader of the BIP386/BIP390 forms we
 * write evaluates each descriptor with other code - @scure/btc-signer's own MuSig2 KeySort and
 * KeyAgg, @scure/bip32 for BIP328, bitcoinjs-lib for scripts and p2tr - and must land on the
 * addresses GroupOutputs gives.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { HDKey } from '@scure/bip32';
import { keyAggregate, sortKeys } from '@scure/btc-signer/musig2.js';
import * as bitcoin from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BitcoinNetwork } from '../../../preload/contract.ts';
import { groupDescriptors, hasValidChecksum } from '../../../main/wallet/descriptor.ts';
import { groupKeyAgg } from '../../../main/wallet/group.ts';
import { policyDescriptors } from '../../../main/wallet/threshold-descriptor.ts';
import { GroupOutputs } from '../../../main/wallet/threshold.ts';
import { MAX_THRESHOLD_SIGNERS, N_OF_N, type GroupPolicy } from '../../../main/wallet/threshold-policy.ts';

const key = (i: number) => bytesToHex(secp256k1.getPublicKey(secp256k1.Point.Fn.toBytes(BigInt(i))));

// BIP390's keys, sorted: A < B < C.
const A = '023590a94e768f8e1815c2f24b4d80a8e3149316c3518ce7b7ad338368d038ca66';
const B = '02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9';
const C = '03dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659';

// ---- a reader for tr(KEY,TREE) with musig(), pk() and and_v(v:pk(),older()) ----

const BIP328_CHAIN_CODE = sha256(utf8ToBytes('MuSig2MuSig2MuSig2'));
const TPUB = { public: 0x043587cf, private: 0x04358394 };

type KeyExpr = { participants: Uint8Array[]; branch: number | undefined } | { plain: Uint8Array };
type TreeExpr = { left: TreeExpr; right: TreeExpr } | { pk: KeyExpr } | { pk: KeyExpr; older: number };

class Reader {
  i = 0;
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  eat(token: string): void {
    if (!this.text.startsWith(token, this.i)) throw new Error(`expected ${token} at ${this.i}`);
    this.i += token.length;
  }
  peek(token: string): boolean {
    return this.text.startsWith(token, this.i);
  }
  match(re: RegExp): string {
    const m = re.exec(this.text.slice(this.i));
    if (!m || m.index !== 0) throw new Error(`unexpected text at ${this.i}`);
    this.i += m[0].length;
    return m[0];
  }
}

function readKey(r: Reader): KeyExpr {
  if (!r.peek('musig(')) return { plain: hexToBytes(r.match(/[0-9a-f]{66}/)) };
  r.eat('musig(');
  const participants: Uint8Array[] = [];
  do {
    if (participants.length > 0) r.eat(',');
    const atom = r.match(/[0-9a-f]{66}|[xt]pub[1-9A-HJ-NP-Za-km-z]+/);
    participants.push(atom.length === 66 ? hexToBytes(atom) : HDKey.fromExtendedKey(atom, atom.startsWith('t') ? TPUB : undefined).publicKey!);
  } while (r.peek(','));
  r.eat(')');
  const branch = r.peek('/') ? Number(r.match(/\/\d+\/\*/).slice(1, -2)) : undefined;
  return { participants, branch };
}

function readTree(r: Reader): TreeExpr {
  if (r.peek('{')) {
    r.eat('{');
    const left = readTree(r);
    r.eat(',');
    const right = readTree(r);
    r.eat('}');
    return { left, right };
  }
  if (r.peek('pk(')) {
    r.eat('pk(');
    const pk = readKey(r);
    r.eat(')');
    return { pk };
  }
  r.eat('and_v(v:pk(');
  const pk = readKey(r);
  r.eat('),older(');
  const older = Number(r.match(/\d+/));
  r.eat('))');
  return { pk, older };
}

function xOnlyAt(k: KeyExpr, index: number): Uint8Array {
  if ('plain' in k) return k.plain.subarray(1);
  const aggregate = keyAggregate(sortKeys(k.participants)).aggPublicKey.toBytes(true);
  if (k.branch === undefined) return aggregate.subarray(1);
  const node = new HDKey({ publicKey: aggregate, chainCode: BIP328_CHAIN_CODE });
  return node.deriveChild(k.branch).deriveChild(index).publicKey!.subarray(1);
}

function taptree(t: TreeExpr, index: number): object {
  if ('left' in t) return [taptree(t.left, index), taptree(t.right, index)];
  const { OP_CHECKSIG, OP_CHECKSIGVERIFY, OP_CHECKSEQUENCEVERIFY } = bitcoin.opcodes;
  const output =
    'older' in t
      ? bitcoin.script.compile([xOnlyAt(t.pk, index), OP_CHECKSIGVERIFY!, bitcoin.script.number.encode(t.older), OP_CHECKSEQUENCEVERIFY!])
      : bitcoin.script.compile([xOnlyAt(t.pk, index), OP_CHECKSIG!]);
  return { output, version: 0xc0 };
}

/** The address a wallet reading `descriptor` gives at `index` (its only `*`). */
function addressOf(descriptor: string, index: number, network: BitcoinNetwork): string {
  expect(hasValidChecksum(descriptor)).toBe(true);
  const r = new Reader(descriptor.slice(0, -9));
  r.eat('tr(');
  const internal = readKey(r);
  const tree = r.peek(',') ? (r.eat(','), readTree(r)) : undefined;
  r.eat(')');
  expect(r.i).toBe(r.text.length);
  const pay = bitcoin.payments.p2tr({
    internalPubkey: xOnlyAt(internal, index),
    scriptTree: tree && (taptree(tree, index) as never),
    network: network === 'mainnet' ? bitcoin.networks.bitcoin : bitcoin.networks.regtest,
  });
  return pay.address!;
}

// ---- tests ----

const CASES: [string, string[], GroupPolicy][] = [
  ['2-of-3', [A, B, C], { kind: 'k-of-n', k: 2 }],
  ['2-of-3, recovery key', [A, B, C], { kind: 'k-of-n', k: 2, recovery: { keys: [B], olderBlocks: 144 } }],
  ['3-of-5', [11, 12, 13, 14, 15].map(key), { kind: 'k-of-n', k: 3 }],
  ['3-of-5, recovery subset', [11, 12, 13, 14, 15].map(key), { kind: 'k-of-n', k: 3, recovery: { keys: [key(15), key(11)], olderBlocks: 52_560 } }],
  ['2-of-2, recovery key', [A, C], { kind: 'n-of-n', recovery: { keys: [key(98)], olderBlocks: 10 } }],
];

describe('threshold group descriptors', () => {
  beforeAll(() => bitcoin.initEccLib(ecc));

  it('write the 2-of-3 of BIP390 as its example does, with the BIP380 reference checksum', () => {
    const d = policyDescriptors(new GroupOutputs([B, C, A], { kind: 'k-of-n', k: 2 }), 'mainnet');
    expect(d.keyPath).toBe(`tr(musig(${A},${B},${C}),{pk(musig(${A},${B})),{pk(musig(${A},${C})),pk(musig(${B},${C}))}})#wj8t4gwh`);
  });

  it('write the recovery leaf last, as and_v(v:pk(K),older(N)), with the BIP380 reference checksum', () => {
    const d = policyDescriptors(new GroupOutputs([A, B, C], { kind: 'k-of-n', k: 2, recovery: { keys: [B], olderBlocks: 144 } }), 'mainnet');
    expect(d.keyPath).toBe(
      `tr(musig(${A},${B},${C}),{{pk(musig(${A},${B})),pk(musig(${A},${C}))},{pk(musig(${B},${C})),and_v(v:pk(${B}),older(144))}})#djw0dw3s`,
    );
  });

  it('check with the existing checksum code, which accepts BIP380 raw(deadbeef)#89f8spxm and refuses a changed body', () => {
    expect(hasValidChecksum('raw(deadbeef)#89f8spxm')).toBe(true);
    const d = policyDescriptors(new GroupOutputs([A, B, C], { kind: 'k-of-n', k: 2 }), 'mainnet');
    for (const text of Object.values(d)) {
      expect(hasValidChecksum(text)).toBe(true);
      expect(hasValidChecksum(text.replace('pk(', 'pk ('))).toBe(false);
    }
  });

  it('keep the n-of-n descriptors of a group without recovery byte for byte', () => {
    for (const keys of [[A], [A, B], [A, B, C]]) {
      for (const network of ['mainnet', 'regtest'] as const) {
        expect(policyDescriptors(new GroupOutputs(keys, N_OF_N), network)).toEqual(groupDescriptors(groupKeyAgg(keys), network));
      }
    }
  });

  describe.each(CASES)('%s', (_name, keys, policy) => {
    const outputs = new GroupOutputs(keys, policy);

    it.each(['mainnet', 'regtest'] as const)('on %s: every descriptor, read by other code, gives our addresses', (network) => {
      const d = policyDescriptors(outputs, network);
      expect(addressOf(d.keyPath, 0, network)).toBe(outputs.address([], network));
      for (const index of [0, 1, 2, 17]) {
        expect(addressOf(d.receive, index, network)).toBe(outputs.address([0, index], network));
        expect(addressOf(d.change, index, network)).toBe(outputs.address([1, index], network));
      }
      expect(d.change.slice(0, -9)).toBe(d.receive.slice(0, -9).replaceAll('/0/*', '/1/*'));
      expect(d.receive).toMatch(network === 'mainnet' ? /^tr\(musig\(xpub/ : /^tr\(musig\(tpub/);
    });
  });

  it(`stay under 18 000 characters at the bound (4-of-${MAX_THRESHOLD_SIGNERS}, recovery by all ${MAX_THRESHOLD_SIGNERS})`, () => {
    const keys = Array.from({ length: MAX_THRESHOLD_SIGNERS }, (_, i) => key(i + 21));
    const d = policyDescriptors(new GroupOutputs(keys, { kind: 'k-of-n', k: 4, recovery: { keys, olderBlocks: 1000 } }), 'mainnet');
    expect(d.receive.length).toBeGreaterThan(17_000);
    expect(d.receive.length).toBeLessThan(18_000);
  });
});
