/**
 * The PSBT payload: its canonical encoding and bounds, and the intake every signer runs on it before
 * a request is shown (import, review, plan), with its refusals and their reasons.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { describe, expect, it } from 'vitest';
import { PSBT_LIMITS } from '../../../preload/contract.ts';
import { checkAnnouncementBody, checkSessionSize } from '../../../main/session/announcement.ts';
import {
  appendSignature,
  decodeFrame,
  encodeAnnouncementBody,
  encodeMessageBody,
  PAYLOAD_KINDS,
  type PsbtPayload,
} from '../../../main/session/codec.ts';
import { MAX_FRAME_BYTES, PROTOCOL_MAX_MESSAGES, PROTOCOL_MAX_NONCES, PROTOCOL_MAX_SIGNERS } from '../../../main/session/limits.ts';
import { GroupKeysCache, intakePsbt, MAX_CACHED_GROUPS } from '../../../main/session/psbt-session.ts';
import { MAX_PSBT_BYTES, MAX_PSBT_INPUTS, MAX_PSBT_OUTPUTS } from '../../../main/wallet/psbt-import.ts';
import { readPsbtMaps } from '../../../main/wallet/psbt-maps.ts';
import { cosigners, spendFrom } from '../../support/psbt-fixtures.ts';
import { body as announcementBody, errorCode, signersABC } from '../../support/session-fixtures.ts';
import { writePsbtMaps } from '../wallet/psbt-fixtures.ts';

const SIG = new Uint8Array(64).fill(0xab);
const stranger = cosigners(1, 'payload-stranger')[0]!;
const cache = new GroupKeysCache();
const signers = signersABC.map((s) => s.publicKey);
const keys = cache.of(signers);

function errorOf(fn: () => unknown): { code: string; message: string; context: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    return e as never;
  }
  throw new Error('no error');
}

/** Two inputs of the group (its own key and receive key 0/1), a payment and change. */
function goodPsbt(): Uint8Array {
  return spendFrom(
    keys,
    [
      { path: [], amount: 60_000n },
      { path: [0, 1], amount: 40_000n },
    ],
    [
      { outputKey: stranger.publicKey.subarray(1), amount: 70_000n },
      { changePath: [1, 0], amount: 29_000n },
    ],
  ).toPSBT();
}

function payload(psbt: Uint8Array, overrides: Partial<PsbtPayload> = {}): PsbtPayload {
  return { kind: 'psbt', network: 'regtest', allowNonDefaultSighash: false, psbt, ...overrides };
}

function frameOf(p: PsbtPayload): Uint8Array {
  return appendSignature(encodeAnnouncementBody(announcementBody({ payload: p })), SIG);
}

describe('codec: the PSBT payload', () => {
  it('round-trips the PSBT bytes, the network and the flag, and re-encodes to the same bytes', () => {
    for (const p of [payload(goodPsbt()), payload(Uint8Array.of(1), { network: 'mainnet', allowNonDefaultSighash: true })]) {
      const frame = frameOf(p);
      const decoded = decodeFrame(frame);
      if (decoded.type !== 'announcement') throw new Error('not an announcement');
      expect(decoded.body.payload).toEqual(p);
      expect(appendSignature(encodeAnnouncementBody(decoded.body), decoded.signature)).toEqual(frame);
    }
  });

  it('is payload kind 0x03: network byte, flags byte, then the length-prefixed PSBT', () => {
    const psbt = goodPsbt();
    const signed = encodeAnnouncementBody(
      announcementBody({ payload: payload(psbt, { network: 'signet', allowNonDefaultSighash: true }) }),
    );
    const at = signed.length - (1 + 4 + 1 + 1 + 4 + psbt.length);
    expect(signed[at]).toBe(PAYLOAD_KINDS.psbt);
    expect([...signed.subarray(at + 5, at + 7)]).toEqual([2, 1]);
    expect(signed.subarray(signed.length - psbt.length)).toEqual(psbt);
  });

  it('carries a PSBT of the wallet maximum within one frame, and refuses a larger one both ways', () => {
    expect(MAX_PSBT_BYTES + 4096 < MAX_FRAME_BYTES).toBe(true);
    expect(frameOf(payload(new Uint8Array(MAX_PSBT_BYTES))).length).toBeLessThan(MAX_FRAME_BYTES);
    expect(errorCode(() => encodeAnnouncementBody(announcementBody({ payload: payload(new Uint8Array(MAX_PSBT_BYTES + 1)) })))).toBe(
      'INVALID_INPUT',
    );
    expect(errorCode(() => encodeAnnouncementBody(announcementBody({ payload: payload(new Uint8Array(0)) })))).toBe('INVALID_INPUT');
    // The decoder refuses what the encoder would not write: a PSBT length one above the maximum.
    const signed = encodeAnnouncementBody(announcementBody({ payload: payload(new Uint8Array(MAX_PSBT_BYTES)) }));
    const lengthAt = signed.length - MAX_PSBT_BYTES - 4;
    const view = new DataView(signed.buffer, signed.byteOffset);
    expect(view.getUint32(lengthAt)).toBe(MAX_PSBT_BYTES);
    const longer = new Uint8Array(signed.length + 1);
    longer.set(signed);
    const longerView = new DataView(longer.buffer);
    longerView.setUint32(lengthAt, MAX_PSBT_BYTES + 1);
    longerView.setUint32(lengthAt - 4 - 2, longerView.getUint32(lengthAt - 4 - 2) + 1); // the payload body length
    expect(errorCode(() => decodeFrame(appendSignature(longer, SIG)))).toBe('MALFORMED_MESSAGE');
  });

  it('refuses an unknown network or flag bit, and a PSBT payload not under taproot keys', () => {
    const signed = encodeAnnouncementBody(announcementBody({ payload: payload(Uint8Array.of(7, 7)) }));
    const networkAt = signed.length - 2 - 4 - 2;
    expect(signed[networkAt]).toBe(3);
    const badNetwork = signed.slice();
    badNetwork[networkAt] = 4;
    expect(errorCode(() => decodeFrame(appendSignature(badNetwork, SIG)))).toBe('MALFORMED_MESSAGE');
    const badFlags = signed.slice();
    badFlags[networkAt + 1] = 0x02;
    expect(errorCode(() => decodeFrame(appendSignature(badFlags, SIG)))).toBe('MALFORMED_MESSAGE');
    expect(
      errorCode(() => encodeAnnouncementBody(announcementBody({ payload: payload(Uint8Array.of(1), { network: 'litecoin' as never }) }))),
    ).toBe('INVALID_INPUT');
    expect(errorCode(() => checkAnnouncementBody(announcementBody({ payload: payload(Uint8Array.of(1)), tweak: 'none' }), 16))).toBe(
      'MALFORMED_MESSAGE',
    );
  });

  it("agrees with the contract's and the wallet's limits", () => {
    expect(PSBT_LIMITS).toEqual({ inputs: MAX_PSBT_INPUTS, outputs: MAX_PSBT_OUTPUTS, bytes: MAX_PSBT_BYTES });
    expect(MAX_PSBT_INPUTS).toBe(PROTOCOL_MAX_MESSAGES);
  });

  it('fits a 128-input PSBT, its NONCES and its PARTIAL_SIGS (16 signers) in one frame each, and refuses a session whose PARTIAL_SIGS would not fit', () => {
    const inputs = Array.from({ length: MAX_PSBT_INPUTS }, () => ({ path: [] as number[], amount: 10_000n }));
    const psbt = spendFrom(keys, inputs, [{ outputKey: stranger.publicKey.subarray(1), amount: 1_000_000n }]).toPSBT();
    const announcement = frameOf(payload(psbt));
    expect(announcement.length).toBeLessThan(MAX_FRAME_BYTES / 8);
    const head = { sessionId: new Uint8Array(32), sender: 0, attempt: 1, sequence: 1, timestamp: 1 };
    const nonces = Array.from({ length: MAX_PSBT_INPUTS }, () => new Uint8Array(66));
    const noncesFrame = appendSignature(encodeMessageBody({ ...head, body: { type: 'nonces', nonces } }), SIG);
    expect(noncesFrame.length).toBeLessThan(9_000);
    const signersMax = PROTOCOL_MAX_NONCES / MAX_PSBT_INPUTS;
    expect(signersMax).toBe(16);
    const evidence = Array.from({ length: signersMax }, () => ({ sequence: 1, timestamp: 1, signature: SIG, nonces }));
    const partials = Array.from({ length: MAX_PSBT_INPUTS }, () => new Uint8Array(32));
    const partialsFrame = appendSignature(encodeMessageBody({ ...head, body: { type: 'partials', partials, evidence } }), SIG);
    expect(partialsFrame.length).toBeLessThan(145_000);
    expect(partialsFrame.length).toBeLessThan(MAX_FRAME_BYTES * 0.6);
    expect(() => checkSessionSize(signersMax, MAX_PSBT_INPUTS)).not.toThrow();
    expect(() => checkSessionSize(PROTOCOL_MAX_SIGNERS, PROTOCOL_MAX_NONCES / PROTOCOL_MAX_SIGNERS)).not.toThrow();
    expect(errorCode(() => checkSessionSize(signersMax + 1, MAX_PSBT_INPUTS))).toBe('OVERSIZED_MESSAGE');
    // A batch of 128 messages among 17 signers is refused with its announcement, before anything is signed.
    const many = Array.from({ length: MAX_PSBT_INPUTS }, () => ({ message: new Uint8Array(32), label: '' }));
    const seventeen = cosigners(signersMax + 1, 'payload-seventeen').map((s) => s.publicKey);
    expect(
      errorCode(() =>
        checkAnnouncementBody(announcementBody({ signers: seventeen, payload: { kind: 'batch', items: many } }), PROTOCOL_MAX_SIGNERS),
      ),
    ).toBe('OVERSIZED_MESSAGE');
  });
});

describe('PSBT intake: what every signer checks before a request is shown', () => {
  it('computes one signature message per input from the PSBT, and the review shown', () => {
    const intake = intakePsbt(payload(goodPsbt()), signers, cache, 'regtest');
    expect(intake.plan.messages).toHaveLength(2);
    expect(intake.plan.inputs.map((i) => i.key.path)).toEqual([[], [0, 1]]);
    expect(intake.review.signable).toBe(true);
    expect(intake.review.outputs.map((o) => o.isChange)).toEqual([false, true]);
    expect(intake.review.fee).toBe(1_000);
    // The group is the signer set whatever order it is listed in.
    expect(intakePsbt(payload(goodPsbt()), [...signers].reverse(), cache, undefined).plan.messages).toEqual(intake.plan.messages);
  });

  it('refuses bytes that are not a PSBT, or a truncated one, with the reason', () => {
    const notPsbt = errorOf(() => intakePsbt(payload(new TextEncoder().encode('hello')), signers, cache, undefined));
    expect(notPsbt.code).toBe('INVALID_PSBT');
    expect(notPsbt.message).toMatch(/not a PSBT/);
    const psbt = goodPsbt();
    expect(errorCode(() => intakePsbt(payload(psbt.subarray(0, psbt.length - 10)), signers, cache, undefined))).toBe('INVALID_PSBT');
  });

  it('refuses a malformed BIP373 field, naming the input and the field', () => {
    const maps = readPsbtMaps(goodPsbt());
    // PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS with x-only participant keys.
    const bad = { keyType: 0x1a, keyData: keys.group.aggregateKey, value: new Uint8Array(64).fill(2) };
    const inputs = maps.inputs.map((map, i) => (i === 1 ? [...map, bad] : map));
    const e = errorOf(() => intakePsbt(payload(writePsbtMaps({ ...maps, inputs })), signers, cache, undefined));
    expect(e.code).toBe('INVALID_PSBT');
    expect(e.message).toMatch(/^input 1: PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS/);
  });

  it('refuses a PSBT with an input the group does not own, naming every such input and why', () => {
    const foreign = spendFrom(
      keys,
      [
        { path: [], amount: 60_000n },
        { outputKey: stranger.publicKey.subarray(1), amount: 40_000n },
        { path: [0, 9], amount: 1_000n },
      ],
      [{ outputKey: stranger.publicKey.subarray(1), amount: 100_000n }],
    );
    // Input 2 claims a child of the group, but the output key is someone else's.
    const tx = foreign.toPSBT();
    const e = errorOf(() => intakePsbt(payload(tx), signers, cache, undefined));
    expect(e.code).toBe('PSBT_REFUSED');
    expect(e.message).toMatch(/input 1: this input spends a taproot output that is neither this group's key/);
    expect(e.context).toMatchObject({ input: 1, code: 'not-ours', refused: 1, inputs: 3 });
    // Another group (a subset of the signers) owns nothing here either.
    const subset = errorOf(() => intakePsbt(payload(goodPsbt()), signers.slice(0, 2), cache, undefined));
    expect(subset.code).toBe('PSBT_REFUSED');
    expect(subset.context).toMatchObject({ refused: 2 });
  });

  it('refuses a request for another network than this node signs for', () => {
    const e = errorOf(() => intakePsbt(payload(goodPsbt(), { network: 'mainnet' }), signers, cache, 'regtest'));
    expect(e.code).toBe('PSBT_REFUSED');
    expect(e.message).toMatch(/for mainnet; this node is set to regtest/);
  });

  it('signs a non-DEFAULT sighash only with the creator’s explicit consent', () => {
    const tx = spendFrom(keys, [{ path: [], amount: 10_000n }], [{ outputKey: stranger.publicKey.subarray(1), amount: 9_000n }]);
    tx.updateInput(0, { sighashType: 0x01 });
    const psbt = tx.toPSBT();
    const refused = errorOf(() => intakePsbt(payload(psbt), signers, cache, undefined, true));
    expect(refused.context).toMatchObject({ code: 'sighash-not-allowed' });
    const allowed = intakePsbt(payload(psbt, { allowNonDefaultSighash: true }), signers, cache, undefined, true);
    expect(allowed.review.warnings).toContain('non-default-sighash');
    expect(allowed.plan.inputs[0]!.sighashType).toBe(0x01);
  });

  it('non-default sighash on the creator’s word: the request flag alone does not make this node sign it', () => {
    // Two inputs, the second asking for SINGLE|ANYONECANPAY: signed so, it commits to one output only,
    // and the rest of the transaction can be rewritten after the group signs.
    const to = { outputKey: stranger.publicKey.subarray(1), amount: 7_000n };
    const tx = spendFrom(
      keys,
      [
        { path: [], amount: 10_000n },
        { path: [], amount: 5_000n },
      ],
      [to, to],
    );
    tx.updateInput(1, { sighashType: 0x83 });
    const creatorAllows = payload(tx.toPSBT(), { allowNonDefaultSighash: true });
    const refused = errorOf(() => intakePsbt(creatorAllows, signers, cache, undefined));
    expect(refused.code).toBe('PSBT_REFUSED');
    expect(refused.context).toMatchObject({ input: 1, code: 'sighash-not-allowed', refused: 1 });
    expect(refused.message).toMatch(/input 1: .*SINGLE\|ANYONECANPAY.*settings/);
    // The local policy (a setting, off by default) and the creator's flag together: signed, with the warning.
    expect(intakePsbt(creatorAllows, signers, cache, undefined, true).plan.inputs[1]!.sighashType).toBe(0x83);
  });

  it('takes the binary PSBT only: a creator sends the bytes of a base64 or hex PSBT, not its text', () => {
    const psbt = goodPsbt();
    for (const text of [base64.encode(psbt), bytesToHex(psbt)]) {
      const e = errorOf(() => intakePsbt(payload(new TextEncoder().encode(text)), signers, cache, undefined));
      expect(e.code).toBe('INVALID_PSBT');
      expect(e.message).toMatch(/binary/);
    }
  });
});

describe('GroupKeysCache', () => {
  it('keeps one GroupKeys per signer set, whatever the order or form of the keys, and a bounded number of sets', () => {
    const local = new GroupKeysCache();
    const a = local.of(signers);
    expect(local.of([...signers].reverse())).toBe(a);
    expect(local.of(signers.map((k) => bytesToHex(k).toUpperCase()))).toBe(a);
    const others = cosigners(MAX_CACHED_GROUPS + 1, 'cache');
    for (let i = 0; i < MAX_CACHED_GROUPS; i++) local.of([others[i]!.publicKey, others[i + 1]!.publicKey]);
    // The least recently used set was dropped: asking again builds a new one.
    expect(local.of(signers)).not.toBe(a);
  });
});
