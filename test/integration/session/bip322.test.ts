/**
 * Messages are signed as BIP322 "simple" signatures for the group's address, so a message request can
 * never be turned into a spend: every node signs the BIP322 digest it derives from the message bytes
 * itself, never the bytes. Checked by code that is not ours: bitcoinjs-lib builds the spend and its
 * BIP341 sighash and tiny-secp256k1 checks the witness; bip322-js verifies the message signatures.
 */
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { p2tr } from '@scure/btc-signer';
import { keyAggExport, keyAggregate, sortKeys } from '@scure/btc-signer/musig2.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { Verifier } from 'bip322-js';
import * as bitcoin from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { SessionSnapshot as SnapshotSchema } from '../../../preload/contract.ts';
import { appendSignature, decodeFrame, encodeAnnouncementBody } from '../../../main/session/codec.ts';
import { announcementDigest } from '../../../main/session/hashes.ts';
import { mainnetAddress, verifiesAsBip322 } from '../../support/bip322-check.ts';
import { Cluster } from '../../support/session-cluster.ts';
import { bytes32, taprootScript, verifyWithBitcoinJs } from '../../support/psbt-fixtures.ts';
import { sentFrames } from '../../support/session-forge.ts';

function outputKeyOf(c: Cluster): Uint8Array {
  return p2tr(keyAggExport(keyAggregate(sortKeys(c.nodes.map((n) => n.signer.publicKey))))).tweakedPubkey;
}

async function approveAll(c: Cluster, sessionId: string, creator = 0): Promise<void> {
  await c.runUntil(() => c.nodes.every((n, i) => i === creator || n.requests.some((r) => r.sessionId === sessionId)));
  for (const [i, n] of c.nodes.entries()) if (i !== creator) await n.coordinator.approve(sessionId);
}

function rejected(c: Cluster, node: number): Record<string, number> {
  return c.nodes[node]!.coordinator.health().rejectedMessages;
}

describe('sighash-as-message theft', () => {
  it('a co-signer who asks the group to sign a spend’s BIP341 sighash as a message gets no witness for that spend', async () => {
    const c = new Cluster(3, { seed: 'sighash-theft' });
    await c.start();
    const groupScript = taprootScript(outputKeyOf(c));
    const attacker = c.nodes[2]!;
    // The group holds 1 BTC at its address; the attacker builds a transaction moving it to itself.
    const theft = new bitcoin.Transaction();
    theft.version = 2;
    theft.addInput(bytes32('the group’s coin'), 0);
    theft.addOutput(taprootScript(attacker.signer.publicKey.subarray(1)), 99_990_000n);
    const prevouts = [{ script: groupScript, amount: 100_000_000n }];
    const sighash = theft.hashForWitnessV1(0, [groupScript], [100_000_000n], bitcoin.Transaction.SIGHASH_DEFAULT);

    // Any 1..4096 bytes may be a message: the request goes through, and what is signed is its BIP322 digest.
    const created = await attacker.coordinator.createSession({
      signers: c.signerHexes(),
      payload: { kind: 'message', message: bytesToHex(sighash), label: 'confirm you are online' },
      tweak: 'taproot',
    });
    await approveAll(c, created.sessionId, 2);
    await c.runUntil(() =>
      c.nodes.every((n) => ['COMPLETE', 'ABORTED', 'DECLINED', 'EXPIRED'].includes(c.snapshot(n.index, created.sessionId)?.phase ?? '')),
    );
    for (const node of c.nodes) {
      for (const signature of c.snapshot(node.index, created.sessionId)?.signatures ?? []) {
        theft.setWitness(0, [hexToBytes(signature)]);
        expect(verifyWithBitcoinJs(theft.toHex(), prevouts)).toEqual([false]);
      }
    }
    // What the group did sign is a BIP322 proof about those 32 bytes, and nothing more.
    const done = c.snapshot(0, created.sessionId)!;
    expect(done.phase).toBe('COMPLETE');
    expect(Verifier.verifySignature(mainnetAddress(outputKeyOf(c)), Buffer.from(sighash), done.bip322!.signatures[0]!)).toBe(true);
  });
});

describe('a message is a BIP322 signature for the group’s address', () => {
  it.each([2, 3])('%i signers, all signing: bip322-js verifies it for the group’s bc1p address, on every node', async (n) => {
    const c = new Cluster(n, { seed: `bip322-${n}` });
    await c.start();
    const message = 'Hello World';
    const s = await c.create(0, { payload: { kind: 'message', message: bytesToHex(utf8ToBytes(message)), label: message } });
    await approveAll(c, s.sessionId);
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
    const outputKey = outputKeyOf(c);
    const address = mainnetAddress(outputKey);
    expect(address).toMatch(/^bc1p/);
    for (const node of c.nodes) {
      const done = c.snapshot(node.index, s.sessionId)!;
      expect(SnapshotSchema.parse(done)).toBeTruthy();
      expect(done.bip322?.address).toBe(address);
      const signature = done.bip322!.signatures[0]!;
      expect(Verifier.verifySignature(address, message, signature)).toBe(true);
      expect(Verifier.verifySignature(address, 'Hello World!', signature)).toBe(false);
      // The 64-byte signature is the one in the BIP322 witness: BIP340 over the BIP322 digest.
      expect(verifiesAsBip322(done, outputKey)).toBe(true);
      expect(schnorr.verify(hexToBytes(done.signatures[0]!), hexToBytes(done.bip322!.digests[0]!), outputKey)).toBe(true);
    }
  });

  it('signs every message of a batch as its own BIP322 signature, empty and binary messages too', async () => {
    const c = new Cluster(3, { seed: 'bip322-batch' });
    await c.start();
    const messages = [utf8ToBytes('rent, March'), Uint8Array.of(0xff, 0x00, 0xfe), bytes32('a digest')];
    const items = messages.map((m, i) => ({ message: bytesToHex(m), label: `item ${i}` }));
    const s = await c.create(1, { payload: { kind: 'batch', items } });
    await approveAll(c, s.sessionId, 1);
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
    const address = mainnetAddress(outputKeyOf(c));
    const done = c.snapshot(2, s.sessionId)!;
    expect(done.bip322?.signatures).toHaveLength(3);
    done.bip322!.signatures.forEach((signature, i) => {
      expect(Verifier.verifySignature(address, Buffer.from(messages[i]!), signature)).toBe(true);
      expect(Verifier.verifySignature(address, Buffer.from(messages[(i + 1) % 3]!), signature)).toBe(false);
    });
  });

  it('names the address on the node’s network (the digest does not depend on it)', async () => {
    const c = new Cluster(2, { seed: 'bip322-regtest', options: { bitcoinNetwork: 'regtest' } });
    await c.start();
    const s = await c.create(0);
    expect(s.bip322?.address).toBe(bitcoin.address.toBech32(outputKeyOf(c), 1, 'bcrt'));
    await approveAll(c, s.sessionId);
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
    const done = c.snapshot(1, s.sessionId)!;
    const hello = hexToBytes(done.messages[0]!.hex);
    expect(Verifier.verifySignature(mainnetAddress(outputKeyOf(c)), Buffer.from(hello), done.bip322!.signatures[0]!)).toBe(true);
  });

  it('keeps the BIP322 result through a restart (history is checked against the digest)', async () => {
    const c = new Cluster(2, { seed: 'bip322-restart' });
    await c.start();
    const s = await c.create(0);
    await approveAll(c, s.sessionId);
    expect(await c.runUntilPhase(s.sessionId, ['COMPLETE'])).toBe(true);
    const before = c.snapshot(1, s.sessionId)!;
    const again = await c.restart(c.nodes[1]!);
    expect(again.health().corruptRecords).toBe(0);
    const after = await again.get(s.sessionId);
    expect(verifiesAsBip322(after!, outputKeyOf(c))).toBe(true);
    expect(after?.bip322).toEqual(before.bip322);
    expect(after?.signatures).toEqual(before.signatures);
    // History lists it from the index; opening it (get, above) derives each digest again from the stored message and key.
    expect((await again.history()).sessions.some((h) => h.sessionId === s.sessionId)).toBe(true);
  });
});

describe('no raw signing under the plain aggregate key', () => {
  it('is refused by the creator’s own API, for a message and for a batch', async () => {
    const c = new Cluster(2, { seed: 'plain-key-api' });
    await c.start();
    await expect(c.create(0, { tweak: 'none' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const batch = { kind: 'batch' as const, items: [{ message: 'aa' }] };
    await expect(c.create(0, { payload: batch, tweak: 'none' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await c.nodes[0]!.store.keys()).toEqual([]);
    expect(c.net.log).toEqual([]);
  });

  it('is refused by every receiver at intake, counted, never shown or stored', async () => {
    const c = new Cluster(3, { seed: 'plain-key-intake' });
    await c.start();
    c.net.tamper = () => undefined;
    await c.create(0);
    await c.settle();
    const genuine = sentFrames(c.net, { type: 'announcement', to: 'peer-1' })[0]!.frame;
    c.net.tamper = undefined;
    const d = decodeFrame(genuine);
    if (d.type !== 'announcement') throw new Error('expected an announcement');
    // The creator signs, itself, the same request under the plain aggregate key (tweak 0).
    const signed = encodeAnnouncementBody({ ...d.body, tweak: 'none' });
    const forged = appendSignature(signed, schnorr.sign(announcementDigest(signed), c.nodes[0]!.signer.secret, new Uint8Array(32)));
    for (const to of ['peer-1', 'peer-2']) c.net.deliver(to, forged, 'peer-0');
    await c.settle();
    for (const node of [1, 2]) {
      expect(rejected(c, node)).toEqual({ MALFORMED_MESSAGE: 1 });
      expect(c.nodes[node]!.requests).toEqual([]);
      expect(await c.nodes[node]!.store.keys()).toEqual([]);
    }
  });
});
