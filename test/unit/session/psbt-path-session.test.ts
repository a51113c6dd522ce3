/**
 * The PSBT side of a session for a group with a policy, as the coordinator drives it: each signer's
 * intake (intakePathPsbt: its own group lookup, review and plan along the announced path), the
 * SessionKeys of psbtSessionKeys (announcement order translated to KeySort order), real MuSig2
 * rounds through session-crypto, and the creator's PsbtSession finishing the PSBT. bitcoinjs-lib
 * and tiny-secp256k1 verify the transaction.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import type { PsbtPayload } from '../../../main/session/codec.ts';
import { intakePathPsbt, PsbtSession } from '../../../main/session/psbt-session.ts';
import { aggregatePartials, makeNonces, signingBatch, signPartials } from '../../../main/session/session-crypto.ts';
import type { SecretNonce } from '../../../main/musig/index.ts';
import { KEY_PATH, type SpendPath } from '../../../main/wallet/spend-path.ts';
import { body } from '../../support/session-fixtures.ts';
import { bytes32 } from '../../support/psbt-fixtures.ts';
import { SPEND, thresholdGroup, thresholdSpend, verifyThresholdSpend } from '../../support/threshold-psbt.ts';
import { inputKeyTypes } from '../wallet/psbt-fixtures.ts';

const group = thresholdGroup('path-session');

describe.each([
  ['the key path', KEY_PATH],
  ['leaf 1', { kind: 'leaf', leaf: 1 } as SpendPath],
])('a PSBT session of a 2-of-3 group over %s', (_, path) => {
  const creatorKeys = group.spendKeys();
  const pathSigners = creatorKeys.key([], path).signers.map((k) => bytesToHex(k));
  // The announcement lists the path's signers, in an order that is not KeySort's.
  const people = group.members.filter((m) => pathSigners.includes(bytesToHex(m.publicKey))).reverse();
  const payload: PsbtPayload = {
    kind: 'psbt',
    network: 'regtest',
    allowNonDefaultSighash: false,
    psbt: thresholdSpend(creatorKeys, path).toPSBT(0),
  };
  const announced = body({ signers: people.map((p) => p.publicKey), payload });
  const sessionId = bytes32('path-session/id');

  it('every signer opens it from its own intake; the rounds complete it; bitcoinjs-lib verifies', () => {
    const sessions = people.map(() =>
      PsbtSession.open(announced, intakePathPsbt(payload, announced.signers, { spend: group.spendKeys(), path }, 'regtest')),
    );
    expect(sessions.map((s) => s.messages.map(bytesToHex))).toEqual(sessions.map(() => sessions[0]!.messages.map(bytesToHex)));
    const made = people.map((p, i) => makeNonces(sessions[i]!.keys, sessionId, 1, p.secretKey));
    const nonces = made.map((m) => m.publicNonces);
    const partials = people.map((p, i) => {
      const keys = sessions[i]!.keys;
      return signPartials(keys, signingBatch(keys, nonces), i, p.secretKey, made[i]!.secretNonces as SecretNonce[]);
    });
    const creator = sessions[0]!;
    const signatures = aggregatePartials(creator.keys, signingBatch(creator.keys, nonces), partials);
    // What the session verifies each final signature under: the path's key at each input.
    expect(creator.verifyKeys.map(bytesToHex)).toEqual(SPEND.derivations.map((d) => bytesToHex(creatorKeys.key(d, path).verifyKey)));
    creator.finish(signatures);
    const transaction = creator.view.transaction!;
    expect(verifyThresholdSpend(transaction.rawTxHex, creatorKeys, SPEND.derivations, SPEND.amounts)).toEqual([true, true, true]);
    expect(inputKeyTypes(creator.psbt())).toEqual(SPEND.derivations.map(() => [0x01, 0x08]));
  });

  it('an announcement whose signers are not the path’s is not signed', () => {
    const everyone = body({ signers: group.members.map((m) => m.publicKey).slice(0, path.kind === 'key' ? 2 : 3), payload });
    expect(() =>
      PsbtSession.open(everyone, intakePathPsbt(payload, everyone.signers, { spend: group.spendKeys(), path }, 'regtest')),
    ).toThrow(/not the announcement's signer set/);
  });
});
