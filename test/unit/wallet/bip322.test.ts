/**
 * The BIP322 digest and signature encoding (main/wallet/bip322.ts) against the BIP's published
 * vectors (test/fixtures/bip322-vectors.json, copied from bitcoin/bips) and against bip322-js, an
 * implementation that is not ours.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { Address, NETWORK, OutScript, p2tr, WIF } from '@scure/btc-signer';
import { base64 } from '@scure/base';
import { taprootTweakPrivKey } from '@scure/btc-signer/utils.js';
import { BIP322, Signer, Verifier } from 'bip322-js';
import * as bitcoin from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import vectors from '../../fixtures/bip322-vectors.json' with { type: 'json' };
import {
  bip322Digest,
  bip322MessageHash,
  bip322Signature,
  bip322ToSign,
  bip322ToSpend,
  taprootScriptPubKey,
} from '../../../main/wallet/bip322.ts';
import { taprootSighash } from '../../../main/wallet/psbt-sighash.ts';
import { bytes32 } from '../../support/psbt-fixtures.ts';

const SIGHASH_ALL = 0x01;

const scriptOf = (address: string) => OutScript.encode(Address(NETWORK).decode(address));
const outputKeyOf = (address: string) => scriptOf(address).subarray(2);

describe('BIP322 message hashing and the virtual transactions (published vectors)', () => {
  it.each(vectors.tx_hashes)('message "$message": message hash, to_spend and to_sign txids', (v) => {
    const message = utf8ToBytes(v.message);
    expect(bytesToHex(bip322MessageHash(message))).toBe(v.message_hash);
    // bitcoinjs-lib reads our to_spend and computes its txid.
    expect(bitcoin.Transaction.fromBuffer(bip322ToSpend(message, scriptOf(v.address))).getId()).toBe(v.to_spend_tx_hash);
    expect(bip322ToSign(message, scriptOf(v.address)).id).toBe(v.to_sign_tx_hash);
  });
});

describe('the P2TR digest (published simple signatures)', () => {
  it.each(vectors.simple_p2tr)('"$message": the published signature verifies over our digest under the address key', (v) => {
    const outputKey = outputKeyOf(v.address);
    // The vector's own key is the address's (its BIP86 output key), so the signature is for this address.
    expect(p2tr(schnorr.getPublicKey(WIF().decode(v.private_keys[0]!))).address).toBe(v.address);
    const witness = base64.decode(v.bip322_signatures[0]!);
    expect(witness.length).toBe(66);
    expect(bytesToHex(witness.subarray(0, 2))).toBe('0140'); // one item of 64 bytes: SIGHASH_DEFAULT
    const digest = bip322Digest(utf8ToBytes(v.message), outputKey);
    expect(schnorr.verify(witness.subarray(2), digest, outputKey)).toBe(true);
    expect(bip322Signature(witness.subarray(2))).toBe(v.bip322_signatures[0]);
  });

  it.each(vectors.error_p2tr)('$description: does not verify over our digest', (v) => {
    const witness = base64.decode(v.signature);
    expect(schnorr.verify(witness.subarray(2), bip322Digest(utf8ToBytes(v.message), outputKeyOf(v.address)), outputKeyOf(v.address))).toBe(
      false,
    );
    expect(Verifier.verifySignature(v.address, v.message, v.signature)).toBe(false);
  });
});

describe('against bip322-js', () => {
  const wif = vectors.simple_p2tr[1]!.private_keys[0]!;
  const secret = WIF().decode(wif);
  const { address, tweakedPubkey: outputKey } = p2tr(schnorr.getPublicKey(secret));

  it('its to_spend for a taproot address is ours, byte for byte; so is the P2TR scriptPubKey', () => {
    const message = utf8ToBytes('Hello World');
    const script = taprootScriptPubKey(outputKey);
    expect(bytesToHex(script)).toBe(bytesToHex(scriptOf(address!)));
    const toSpend = BIP322.buildToSpendTx(Buffer.from(message), Buffer.from(script));
    expect(bytesToHex(toSpend.toBuffer())).toBe(bytesToHex(bip322ToSpend(message, script)));
    expect(bytesToHex(BIP322.hashMessage(Buffer.from(message)))).toBe(bytesToHex(bip322MessageHash(message)));
  });

  it.each([
    ['an empty', new Uint8Array(0)],
    ['a text', utf8ToBytes('Pay the plumber ✓')],
    ['a 32-byte digest', bytes32('bip322/digest')],
    ['an invalid UTF-8', Uint8Array.of(0xc3, 0x28, 0xff)],
  ])('%s message: bip322-js verifies a signature over our digest, and its own signature over our to_sign', (_, message) => {
    const digest = bip322Digest(message, outputKey);
    const ours = bip322Signature(schnorr.sign(digest, taprootTweakPrivKey(secret)));
    expect(Verifier.verifySignature(address!, Buffer.from(message), ours)).toBe(true);
    expect(Verifier.verifySignature(address!, Buffer.from(Uint8Array.of(...message, 0)), ours)).toBe(false);
    // bip322-js signs with SIGHASH_ALL (a 65-byte item): its signature hash is of our to_sign too.
    const theirs = base64.decode(Signer.sign(wif, address!, Buffer.from(message)));
    expect(bytesToHex(theirs.subarray(0, 2))).toBe('0141');
    expect(theirs[66]).toBe(SIGHASH_ALL);
    const spk = taprootScriptPubKey(outputKey);
    const sighashAll = taprootSighash(bip322ToSign(message, spk), 0, SIGHASH_ALL, { scripts: [spk], amounts: [0n] });
    expect(schnorr.verify(theirs.subarray(2, 66), sighashAll, outputKey)).toBe(true);
  });

  it('depends on the output key: another key, another digest', () => {
    const message = utf8ToBytes('Hello World');
    const other = outputKeyOf(vectors.simple_p2tr[0]!.address);
    expect(bytesToHex(bip322Digest(message, outputKey))).not.toBe(bytesToHex(bip322Digest(message, other)));
  });

  it('encodes only a 64-byte signature, and takes only a 32-byte output key', () => {
    expect(() => bip322Signature(new Uint8Array(65))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => bip322Digest(new Uint8Array(1), new Uint8Array(33))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
