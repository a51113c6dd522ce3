/**
 * A reader of the BIP386/BIP390 descriptor forms we write - tr(KEY,TREE) with musig(), pk() and
 * and_v(v:pk(),older()) - that evaluates them with other code: @scure/btc-signer's own MuSig2 KeySort
 * and KeyAgg, @scure/bip32 for BIP328, bitcoinjs-lib for scripts and p2tr; and BIP380's checksum,
 * ported from its reference Python on its own (not main/wallet/descriptor.ts).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { HDKey } from '@scure/bip32';
import { keyAggregate, sortKeys } from '@scure/btc-signer/musig2.js';
import * as bitcoin from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import type { BitcoinNetwork } from '../../preload/contract.ts';

bitcoin.initEccLib(ecc);

// BIP380 reference: descsum_polymod, descsum_expand, descsum_create.
const INPUT_CHARSET = '0123456789()[],\'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#"\\ ';
const CHECKSUM_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

function descsumPolymod(symbols: number[]): number {
  const GEN = [0xf5dee51989, 0xa9fdca3312, 0x1bab10e32d, 0x3706b1677a, 0x644d626ffd];
  let chk = 1;
  for (const value of symbols) {
    const top = Math.floor(chk / 2 ** 35);
    chk = (chk % 2 ** 35) * 32 + value;
    for (let i = 0; i < 5; i++) if (Math.floor(top / 2 ** i) % 2 === 1) chk = xor40(chk, GEN[i]!);
  }
  return chk;
}

/** XOR of two numbers below 2^40 (JavaScript's ^ is 32-bit). */
function xor40(a: number, b: number): number {
  const hi = (Math.floor(a / 2 ** 20) ^ Math.floor(b / 2 ** 20)) >>> 0;
  const lo = ((a % 2 ** 20) ^ (b % 2 ** 20)) >>> 0;
  return hi * 2 ** 20 + lo;
}

function descsumExpand(s: string): number[] {
  const groups: number[] = [];
  const symbols: number[] = [];
  for (const c of s) {
    const v = INPUT_CHARSET.indexOf(c);
    if (v < 0) throw new Error(`not a descriptor character: ${c}`);
    symbols.push(v & 31);
    groups.push(v >> 5);
    if (groups.length === 3) {
      symbols.push(groups[0]! * 9 + groups[1]! * 3 + groups[2]!);
      groups.length = 0;
    }
  }
  if (groups.length === 1) symbols.push(groups[0]!);
  else if (groups.length === 2) symbols.push(groups[0]! * 3 + groups[1]!);
  return symbols;
}

/** BIP380 descsum_create: `body#checksum`. */
export function referenceChecksum(body: string): string {
  const checksum = xor40(descsumPolymod([...descsumExpand(body), 0, 0, 0, 0, 0, 0, 0, 0]), 1);
  let out = '';
  for (let i = 0; i < 8; i++) out += CHECKSUM_CHARSET[Math.floor(checksum / 2 ** (5 * (7 - i))) % 32];
  return out;
}

/** BIP380 descsum_check. */
export function referenceChecksumValid(descriptor: string): boolean {
  const at = descriptor.length - 9;
  return at >= 0 && descriptor[at] === '#' && referenceChecksum(descriptor.slice(0, at)) === descriptor.slice(at + 1);
}

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
    participants.push(
      atom.length === 66 ? hexToBytes(atom) : HDKey.fromExtendedKey(atom, atom.startsWith('t') ? TPUB : undefined).publicKey!,
    );
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
export function addressOf(descriptor: string, index: number, network: BitcoinNetwork): string {
  if (!referenceChecksumValid(descriptor)) throw new Error('bad checksum');
  const r = new Reader(descriptor.slice(0, -9));
  r.eat('tr(');
  const internal = readKey(r);
  const tree = r.peek(',') ? (r.eat(','), readTree(r)) : undefined;
  r.eat(')');
  if (r.i !== r.text.length) throw new Error(`unread text at ${r.i}`);
  const pay = bitcoin.payments.p2tr({
    internalPubkey: xOnlyAt(internal, index),
    scriptTree: tree && (taptree(tree, index) as never),
    network: network === 'mainnet' ? bitcoin.networks.bitcoin : bitcoin.networks.regtest,
  });
  return pay.address!;
}
