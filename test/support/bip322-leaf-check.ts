/**
 * Checks a BIP322 simple signature made over a 2-of-3 group's leaf with code that is not ours: the
 * group's keys are aggregated by @scure/btc-signer's MuSig2, bitcoinjs-lib builds the tree (the
 * `{0,{1,2}}` shape docs/GROUPS.md states), the address, the control block, BIP322's to_sign (from
 * bip322-js's to_spend) and the BIP342 signature hash with the leaf hash; tiny-secp256k1 verifies
 * the signature under the key decompiled from the leaf script. A key-path signature is left to
 * bip322-js's verifier (bip322-check.ts).
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { keyAggExport, keyAggregate, sortKeys } from '@scure/btc-signer/musig2.js';
import { BIP322 } from 'bip322-js';
import * as bitcoin from 'bitcoinjs-lib';
import { tapleafHash } from 'bitcoinjs-lib/src/payments/bip341';
import * as ecc from 'tiny-secp256k1';

bitcoin.initEccLib(ecc);

const xOnly = (keys: readonly Uint8Array[]): Uint8Array => {
  const key = keyAggExport(keyAggregate(sortKeys([...keys])));
  return key.length === 33 ? key.subarray(1) : key;
};

/** The 2-of-3 group of `members` as bitcoinjs-lib builds it: leaf i is pk(musig(pair i)), pairs in
 *  canonical order of the sorted keys. */
export function twoOfThree(members: readonly Uint8Array[]) {
  const sorted = sortKeys([...members]);
  const pairs = [
    [0, 1],
    [0, 2],
    [1, 2],
  ].map((pair) => pair.map((i) => sorted[i] as Uint8Array));
  const scripts = pairs.map((pair) => bitcoin.script.compile([xOnly(pair), bitcoin.opcodes.OP_CHECKSIG]));
  const leaf = (i: number) => ({ output: scripts[i] as Uint8Array });
  const scriptTree: [{ output: Uint8Array }, [{ output: Uint8Array }, { output: Uint8Array }]] = [leaf(0), [leaf(1), leaf(2)]];
  const pay = (leafIndex?: number) =>
    bitcoin.payments.p2tr({
      internalPubkey: xOnly(members),
      scriptTree,
      ...(leafIndex === undefined ? {} : { redeem: { output: scripts[leafIndex] as Uint8Array, redeemVersion: 0xc0 } }),
    });
  return { pairs, scripts, pay, address: pay().address as string, outputKey: pay().pubkey as Uint8Array };
}

/** The items of a serialized witness (compact-size count, then each item with its compact-size length). */
function witnessItems(bytes: Uint8Array): Uint8Array[] {
  let at = 0;
  const size = (): number => {
    const first = bytes[at++] as number;
    if (first < 0xfd) return first;
    if (first !== 0xfd) throw new Error('witness too large for this check');
    const value = (bytes[at] as number) | ((bytes[at + 1] as number) << 8);
    at += 2;
    return value;
  };
  const items = Array.from({ length: size() }, () => {
    const length = size();
    const item = bytes.slice(at, at + length);
    at += length;
    return item;
  });
  if (at !== bytes.length) throw new Error('trailing bytes after the witness');
  return items;
}

/**
 * Why the BIP322 signature `bip322` (base64) for `message` over leaf `leafIndex` of the group is not
 * valid, or undefined when it is: witness [signature, leaf script, control block], the control
 * block bitcoinjs-lib's, the signature `schnorrHex` and valid for the BIP342 message of to_sign.
 */
export function leafSignatureProblem(
  members: readonly Uint8Array[],
  leafIndex: number,
  message: Uint8Array,
  bip322: string,
  schnorrHex: string,
): string | undefined {
  const group = twoOfThree(members);
  const pay = group.pay(leafIndex);
  const script = group.scripts[leafIndex] as Uint8Array;
  const [signature, witnessScript, controlBlock, ...rest] = witnessItems(Uint8Array.from(Buffer.from(bip322, 'base64')));
  if (signature === undefined || witnessScript === undefined || controlBlock === undefined || rest.length > 0)
    return 'not a 3-item witness';
  if (bytesToHex(signature) !== schnorrHex) return 'not the snapshot’s signature';
  if (bytesToHex(witnessScript) !== bytesToHex(script)) return 'not the leaf script';
  const expected = (pay.witness as Uint8Array[]).at(-1) as Uint8Array;
  if (bytesToHex(controlBlock) !== bytesToHex(expected)) return 'not the control block';
  const toSpend = BIP322.buildToSpendTx(Buffer.from(message), Buffer.from(pay.output as Uint8Array));
  const toSign = new bitcoin.Transaction();
  toSign.version = 0;
  toSign.locktime = 0;
  toSign.addInput(hexToBytes(toSpend.getId()).reverse(), 0, 0);
  toSign.addOutput(Uint8Array.of(bitcoin.opcodes.OP_RETURN), 0n);
  const leafHash = tapleafHash({ output: script, version: 0xc0 });
  const sighash = toSign.hashForWitnessV1(0, [pay.output as Uint8Array], [0n], bitcoin.Transaction.SIGHASH_DEFAULT, leafHash);
  const [scriptKey] = bitcoin.script.decompile(script) as [Uint8Array];
  return ecc.verifySchnorr(sighash, scriptKey, signature) ? undefined : 'the signature does not verify';
}
