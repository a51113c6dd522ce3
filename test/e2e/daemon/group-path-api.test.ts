/**
 * A 2-of-3 group through two `cosigner serve` processes' control API: the third member's node is not
 * running at all, yet the two sign a message over their leaf, the request naming it by their keys,
 * as docs/API.md (*Spending paths*) tells a script to. The signature is checked by code that is not
 * ours (bip322-leaf-check.ts).
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForSession } from '../../../docs/examples/cosign-message.ts';
import { safetyCode } from '../../../preload/safety-code.ts';
import { leafSignatureProblem, twoOfThree } from '../../support/bip322-leaf-check.ts';
import { startDaemonPair, type DaemonPair } from '../../support/daemon-process.ts';

describe('a 2-of-3 group through two daemons’ control API', () => {
  let pair: DaemonPair;

  beforeAll(async () => {
    pair = await startDaemonPair('Ann', 'Ben');
  });

  afterAll(async () => {
    await pair?.stop();
  });

  it('two members sign over their leaf while the third is away; the other member is listed as not needed', async () => {
    const [keyA, keyB] = await pair.importKeys(schnorr.utils.randomSecretKey(), schnorr.utils.randomSecretKey());
    const keyC = bytesToHex(secp256k1.getPublicKey(schnorr.utils.randomSecretKey(), true));
    const members = [keyA.publicKey, keyB.publicKey, keyC];
    const code = safetyCode(keyA.publicKey, keyB.publicKey);
    await pair.ca.bridge.call('contacts.save', { publicKey: keyB.publicKey, name: 'Ben', safetyCode: code });
    await pair.cb.bridge.call('contacts.save', { publicKey: keyA.publicKey, name: 'Ann', safetyCode: code });
    const policy = { kind: 'k-of-n' as const, k: 2 };
    const group = await pair.ca.bridge.call('groups.save', { name: 'Ann, Ben, Cat', publicKeys: members, policy });
    expect((await pair.cb.bridge.call('groups.save', { name: 'Ann, Ben, Cat', publicKeys: members, policy })).id).toBe(group.id);
    const independent = twoOfThree(members.map((k) => hexToBytes(k)));
    const leaf = independent.pairs.findIndex((p) => !p.some((k) => bytesToHex(k) === keyC));

    const text = 'Ann and Ben agree; Cat is travelling.';
    const incoming = waitForSession(pair.cb.bridge, (s) => s.awaitingLocalApproval && s.description === text);
    const created = await pair.ca.bridge.call('sessions.create', {
      groupId: group.id,
      message: { kind: 'text', text },
      path: { kind: 'leaf', signers: [keyB.publicKey, keyA.publicKey] },
      description: text,
    });
    expect(created.spendPath).toMatchObject({ groupId: group.id, kind: 'leaf', leaf, leafKind: 'subset', notNeeded: [keyC] });
    expect(created.signers.map((s) => s.publicKey).sort()).toEqual([keyA.publicKey, keyB.publicKey].sort());
    const request = await incoming;
    expect(request.spendPath).toEqual(created.spendPath);
    const done = waitForSession(pair.ca.bridge, (s) => s.sessionId === created.sessionId && s.phase === 'COMPLETE');
    await pair.cb.bridge.call('sessions.approve', { sessionId: request.sessionId });
    const final = await done;
    // The group's own address (regtest here; bitcoinjs-lib's is mainnet: the same output key).
    expect(final.bip322!.address).toBe(group.address);
    expect(final.signingKey).toBe(bytesToHex(independent.outputKey));
    expect(
      leafSignatureProblem(
        members.map((k) => hexToBytes(k)),
        leaf,
        utf8ToBytes(text),
        final.bip322!.signatures[0]!,
        final.signatures[0]!,
      ),
    ).toBe(undefined);
  });
});
