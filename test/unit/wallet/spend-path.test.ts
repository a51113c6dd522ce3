/**
 * Signing keys of a threshold group's spending paths, checked by another implementation: for each
 * path of a 2-of-3 group with a recovery leaf, a real MuSig2 round (or the one recovery key) signs
 * a spend of a BIP328-derived output, and bitcoinjs-lib computes the output, the leaf hash, the
 * control block and the BIP341/BIP342 signature hash on its own, tiny-secp256k1 verifies.
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import * as bitcoin from 'bitcoinjs-lib';
import { tapleafHash } from 'bitcoinjs-lib/src/payments/bip341';
import * as ecc from 'tiny-secp256k1';
import { beforeAll, describe, expect, it } from 'vitest';
import { KEY_PATH, pathKey, type SpendPath } from '../../../main/wallet/spend-path.ts';
import { GroupOutputs } from '../../../main/wallet/threshold.ts';
import type { GroupPolicy } from '../../../main/wallet/threshold-policy.ts';
import { runRound, secretKeyFromSeed } from '../musig/signing-round.ts';

const SECRETS = [21n, 22n, 23n, 24n, 25n].map(secretKeyFromSeed);
const hexOf = (secret: Uint8Array) => bytesToHex(secp256k1.getPublicKey(secret, true));
const secretOf = (publicKey: Uint8Array) => SECRETS.find((s) => hexOf(s) === bytesToHex(publicKey)) as Uint8Array;
const MEMBERS = SECRETS.slice(0, 3).map(hexOf);
const DERIVATION = [0, 7];
const AMOUNT = 50_000n;

beforeAll(() => bitcoin.initEccLib(ecc));

/** A spend of input 0 (paying `scriptPubKey`) to one P2TR output, as bitcoinjs-lib holds it. */
function spendOf(sequence: number): bitcoin.Transaction {
  const tx = new bitcoin.Transaction();
  tx.version = 2;
  tx.addInput(new Uint8Array(32).fill(9), 1, sequence);
  tx.addOutput(Uint8Array.of(0x51, 0x20, ...new Uint8Array(32).fill(4)), 49_000n);
  return tx;
}

/** The signature the path's signers make for `message`: a MuSig2 round, or the one key's BIP340 signature. */
function signFor(key: ReturnType<typeof pathKey>, message: Uint8Array): Uint8Array {
  if (key.ctx === undefined) return schnorr.sign(message, secretOf(key.signers[0] as Uint8Array), new Uint8Array(32).fill(1));
  const round = runRound(key.ctx, key.ctx.publicKeys.map(secretOf), [message], message);
  return round.batch.aggregate(round.partials)[0] as Uint8Array;
}

/** bitcoinjs-lib's tree of the four leaves, in the balanced shape GROUPS.md documents: {{0,1},{2,3}}. */
function scriptTree(scripts: readonly Uint8Array[]) {
  const leaf = (i: number) => ({ output: scripts[i] as Uint8Array });
  return [
    [leaf(0), leaf(1)],
    [leaf(2), leaf(3)],
  ] as [[{ output: Uint8Array }, { output: Uint8Array }], [{ output: Uint8Array }, { output: Uint8Array }]];
}

const POLICIES: Record<string, GroupPolicy> = {
  'a MuSig2 recovery pair': { kind: 'k-of-n', k: 2, recovery: { keys: SECRETS.slice(3, 5).map(hexOf), olderBlocks: 144 } },
  'a single recovery key': { kind: 'k-of-n', k: 2, recovery: { keys: [hexOf(SECRETS[3] as Uint8Array)], olderBlocks: 144 } },
};

describe.each(Object.entries(POLICIES))('spending paths of a 2-of-3 group with %s', (_, policy) => {
  const outputs = new GroupOutputs(MEMBERS, policy);
  const paths: SpendPath[] = [KEY_PATH, ...[0, 1, 2, 3].map((leaf): SpendPath => ({ kind: 'leaf', leaf }))];

  it.each(paths.map((path) => [JSON.stringify(path), path] as const))(
    '%s signs a spend bitcoinjs-lib and tiny-secp256k1 accept',
    (_, path) => {
      const key = pathKey(outputs, DERIVATION, path, 'regtest');
      const scripts = key.output.leaves.map((leaf) => leaf.script);
      const redeem = key.leaf && { output: key.leaf.script, redeemVersion: 0xc0 };
      const pay = bitcoin.payments.p2tr({
        internalPubkey: key.output.internalKey,
        scriptTree: scriptTree(scripts),
        ...(redeem ? { redeem } : {}),
        network: bitcoin.networks.regtest,
      });
      expect(key.output.address).toBe(pay.address);
      const tx = spendOf(key.leaf?.kind === 'recovery' ? key.leaf.olderBlocks : 0xfffffffd);
      const leafHash = key.leaf && tapleafHash({ output: key.leaf.script, version: 0xc0 });
      const sighash = tx.hashForWitnessV1(0, [pay.output as Uint8Array], [AMOUNT], bitcoin.Transaction.SIGHASH_DEFAULT, leafHash);
      const signature = signFor(key, sighash);
      if (key.leaf === undefined) {
        expect(ecc.verifySchnorr(sighash, pay.pubkey as Uint8Array, signature)).toBe(true);
        expect(key.signers.map(bytesToHex)).toEqual(outputs.group.publicKeys.map(bytesToHex));
        return;
      }
      expect(bytesToHex(key.leafHash as Uint8Array)).toBe(bytesToHex(leafHash as Uint8Array));
      // bitcoinjs-lib's witness for the leaf ends with the script and the control block a spend needs.
      const witness = pay.witness as Uint8Array[];
      expect(bytesToHex(key.leaf.controlBlock)).toBe(bytesToHex(witness[witness.length - 1] as Uint8Array));
      // The key the leaf script checks is the first push of the script, as bitcoinjs-lib decompiles it.
      const [scriptKey] = bitcoin.script.decompile(key.leaf.script) as [Uint8Array];
      expect(bytesToHex(scriptKey)).toBe(bytesToHex(key.verifyKey));
      expect(ecc.verifySchnorr(sighash, scriptKey, signature)).toBe(true);
      // A signature of the key path's message does not satisfy the leaf, nor the reverse.
      const keyPathHash = tx.hashForWitnessV1(0, [pay.output as Uint8Array], [AMOUNT], bitcoin.Transaction.SIGHASH_DEFAULT);
      expect(ecc.verifySchnorr(keyPathHash, scriptKey, signature)).toBe(false);
    },
  );

  it('names the signers of each leaf, and refuses a leaf the group does not have', () => {
    const leafSigners = [0, 1, 2, 3].map((leaf) => pathKey(outputs, [], { kind: 'leaf', leaf }, 'regtest').signers.map(bytesToHex));
    const sorted = outputs.group.publicKeys.map(bytesToHex);
    expect(leafSigners.slice(0, 3)).toEqual([
      [sorted[0], sorted[1]],
      [sorted[0], sorted[2]],
      [sorted[1], sorted[2]],
    ]);
    expect(leafSigners[3]).toEqual(policy.recovery?.keys.map((k) => bytesToHex(hexToBytes(k))).sort());
    expect(() => pathKey(outputs, [], { kind: 'leaf', leaf: 4 }, 'regtest')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

describe('the key path of an n-of-n group without a tree', () => {
  it('is the BIP86-style tweak of the derived aggregate, as before trees existed', () => {
    const outputs = new GroupOutputs(MEMBERS, { kind: 'n-of-n' });
    const key = pathKey(outputs, DERIVATION, KEY_PATH, 'regtest');
    const pay = bitcoin.payments.p2tr({ internalPubkey: key.output.internalKey, network: bitcoin.networks.regtest });
    expect(bytesToHex(key.verifyKey)).toBe(bytesToHex(pay.pubkey as Uint8Array));
    expect(key.output.merkleRoot).toBeUndefined();
  });
});
