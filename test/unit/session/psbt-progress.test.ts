/**
 * A PSBT session's copy as the rounds progress: brought to each state of the session (nonces, then
 * partial signatures, a new attempt, completion), it is what writing the same state with the PSBT
 * engine gives, byte for byte, and holds exactly the fields of the state.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { describe, expect, it } from 'vitest';
import type { AnnouncementBody, NonceEvidence } from '../../../main/session/codec.ts';
import { GroupKeysCache, intakePsbt, PsbtSession } from '../../../main/session/psbt-session.ts';
import { complete, initialState, recordNonces, recordPartials, startAttempt, type SessionState } from '../../../main/session/state.ts';
import { readBip373Fields } from '../../../main/wallet/bip373.ts';
import { importPsbt } from '../../../main/wallet/psbt-import.ts';
import { readPsbtMaps } from '../../../main/wallet/psbt-maps.ts';
import { makePsbtNonces, PsbtSigningBatch, type PsbtSigningPlan } from '../../../main/wallet/psbt-signing.ts';
import { body as bodyOf, NOW } from '../../support/session-fixtures.ts';
import { engine, signers, spendTx } from '../wallet/psbt-build.ts';
import { bytes32 } from '../wallet/psbt-fixtures.ts';

const hex = bytesToHex;
/** Announcement order, not KeySort order, so a signer's index and its BIP373 position differ. */
const announced = [signers[2]!, signers[0]!, signers[1]!];

function opened(version: 0 | 2) {
  const psbt = spendTx().toPSBT(version);
  const body: AnnouncementBody = bodyOf({
    signers: announced.map((s) => s.publicKey),
    payload: { kind: 'psbt', network: 'regtest', allowNonDefaultSighash: false, psbt },
  });
  const intake = intakePsbt(
    { kind: 'psbt', network: 'regtest', allowNonDefaultSighash: false, psbt },
    body.signers,
    new GroupKeysCache(),
    'regtest',
  );
  return { psbt, body, plan: intake.plan, session: PsbtSession.open(body, intake) };
}

/** Each signer's nonces (with their secrets) and, from all of them, its partial signatures; by announcement index. */
function rounds(session: PsbtSession, plan: PsbtSigningPlan, label: string) {
  const { position } = session.keys;
  const made = announced.map((s, index) => makePsbtNonces(plan, s.secretKey, (input) => bytes32(`${label}/${index}/${input}`)));
  const byPosition: Uint8Array[][] = [];
  made.forEach((m, index) => (byPosition[position[index]!] = m.publicNonces));
  const batch = new PsbtSigningBatch(plan.inputs, byPosition);
  const partials = announced.map((s, index) => batch.sign(position[index]!, s.secretKey, made[index]!.secretNonces));
  const evidence = made.map((m): NonceEvidence => ({ sequence: 1, timestamp: NOW, signature: new Uint8Array(64), nonces: m.publicNonces }));
  return { evidence, partials, aggregate: () => batch.aggregate(partials.map((_, p) => partials[session.keys.indexAt[p]!]!)) };
}

/** The copy as it used to be made when asked for: the announced PSBT re-imported, and the state's
 *  fields written into it with the PSBT engine. */
function engineCopy(psbt: Uint8Array, plan: PsbtSigningPlan, session: PsbtSession, state: SessionState): Uint8Array {
  const { tx, version } = importPsbt(psbt);
  engine.clear(tx, plan);
  engine.participants(tx, plan);
  state.nonces.forEach((evidence, index) => evidence && engine.pubNonces(tx, plan, session.keys.position[index]!, evidence.nonces));
  state.partials.forEach((partials, index) => partials && engine.partialSigs(tx, plan, session.keys.position[index]!, partials));
  return tx.toPSBT(version);
}

function recorded(outcome: ReturnType<typeof recordNonces>): SessionState {
  if (outcome.kind !== 'new') throw new Error(`not recorded: ${outcome.kind}`);
  return outcome.state;
}

describe('PsbtSession.progress: the BIP373 fields written as the rounds progress', () => {
  it.each([0, 2] as const)('PSBTv%i: nonces, then partial signatures, then completion; the engine’s copy at every step', (version) => {
    const { psbt, body, plan, session } = opened(version);
    const { evidence, partials, aggregate } = rounds(session, plan, 'attempt-1');
    let state = initialState(3, 0, NOW);
    const check = () => {
      session.progress(state);
      expect(hex(session.psbt())).toBe(hex(engineCopy(psbt, plan, session, state)));
    };
    check();
    for (const index of [1, 2, 0]) {
      state = recorded(recordNonces(state, index, evidence[index]!, NOW));
      check();
    }
    for (const index of [2, 0]) {
      state = recorded(recordPartials(state, index, partials[index]!, NOW));
      check();
    }
    // Exactly the state's fields: every nonce, the partial signatures of signers 2 and 0, by their keys.
    const fields = readBip373Fields(readPsbtMaps(session.psbt()));
    fields.inputs.forEach((input, i) => {
      expect(input.participants.map((p) => p.participants.map(hex))).toEqual([plan.participants.map(hex)]);
      expect(input.pubNonces.map((n) => [hex(n.participantKey), hex(n.pubNonce)]).sort()).toEqual(
        announced.map((s, index) => [hex(s.publicKey), hex(evidence[index]!.nonces[i]!)]).sort(),
      );
      expect(input.partialSigs.map((p) => [hex(p.participantKey), hex(p.partialSig)]).sort()).toEqual(
        [2, 0].map((index) => [hex(announced[index]!.publicKey), hex(partials[index]![i]!)]).sort(),
      );
    });
    // Idempotent: the same state again changes nothing.
    const before = hex(session.psbt());
    session.progress(state);
    session.progress({ ...state });
    expect(hex(session.psbt())).toBe(before);

    state = recorded(recordPartials(state, 1, partials[1]!, NOW));
    check();
    const signatures = aggregate();
    session.finish(signatures);
    const done = complete(state, signatures, NOW);
    // Finished: progress does nothing, and the copy is the finalized PSBT.
    session.progress(done);
    const final = session.view.transaction!;
    expect(base64.encode(session.psbt())).toBe(final.psbtBase64);
    expect(base64.encode(PsbtSession.stored(body, session.toStored()).psbt())).toBe(final.psbtBase64);
  });

  it('a new attempt removes the earlier attempt’s nonces and partial signatures before writing its own', () => {
    const { psbt, plan, session } = opened(0);
    const first = rounds(session, plan, 'attempt-1');
    let state = initialState(3, 0, NOW);
    for (const index of [0, 1, 2]) state = recorded(recordNonces(state, index, first.evidence[index]!, NOW));
    state = recorded(recordPartials(state, 1, first.partials[1]!, NOW));
    session.progress(state);
    state = startAttempt(state, 2, NOW);
    session.progress(state);
    expect(hex(session.psbt())).toBe(hex(engineCopy(psbt, plan, session, initialState(3, 0, NOW))));
    const fields = readBip373Fields(readPsbtMaps(session.psbt()));
    expect(
      fields.inputs.every((input) => input.participants.length === 1 && input.pubNonces.length === 0 && input.partialSigs.length === 0),
    ).toBe(true);
    const second = rounds(session, plan, 'attempt-2');
    state = recorded(recordNonces(state, 2, second.evidence[2]!, NOW));
    session.progress(state);
    expect(hex(session.psbt())).toBe(hex(engineCopy(psbt, plan, session, state)));
    const nonces = readBip373Fields(readPsbtMaps(session.psbt())).inputs.flatMap((input) => input.pubNonces.map((n) => hex(n.pubNonce)));
    expect(nonces).toEqual(second.evidence[2]!.nonces.map(hex));
  });

  it('a session read back from the store that ended unsigned gives the announced PSBT, and progress does nothing to it', () => {
    const { psbt, body, session } = opened(2);
    const stored = PsbtSession.stored(body, session.toStored());
    stored.progress(initialState(3, 0, NOW));
    expect(hex(stored.psbt())).toBe(hex(psbt));
  });
});
