/**
 * PSBT sessions between real coordinators over the in-process transport: three signers co-sign a
 * multi-input PSBT (some inputs on BIP328-derived addresses) in one session, and the finished
 * transaction is checked by a different implementation (bitcoinjs-lib computes each BIP341 sighash,
 * tiny-secp256k1 verifies each signature). Hostile requests are refused at intake, before anyone
 * sees them; a tampered PSBT is another session and leaves the approved one alone.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { Transaction } from '@scure/btc-signer';
import * as bitcoin from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { SessionSnapshot as SnapshotSchema } from '../../../preload/contract.ts';
import { signAnnouncement } from '../../../main/session/announcement.ts';
import { decodeFrame, type AnnouncementBody } from '../../../main/session/codec.ts';
import { GroupKeysCache, intakePsbt } from '../../../main/session/psbt-session.ts';
import { importPsbt } from '../../../main/wallet/psbt-import.ts';
import { readBip373Progress } from '../../../main/wallet/psbt-signing.ts';
import type { SessionSnapshot } from '../../../main/session/snapshot.ts';
import { Cluster } from '../../support/session-cluster.ts';
import { cosigners, spendFrom, spentOutputs, verifyWithBitcoinJs, type SpendInput } from '../../support/psbt-fixtures.ts';
import { sentFrames, typeOf } from '../../support/session-forge.ts';

const stranger = cosigners(2, 'psbt-session-stranger');
const payee = stranger[0]!.publicKey.subarray(1);
const cache = new GroupKeysCache();

function groupOf(c: Cluster) {
  return cache.of(c.nodes.map((n) => n.signer.publicKey));
}

const INPUTS: SpendInput[] = [
  { path: [], amount: 100_000n },
  { path: [0, 1], amount: 50_000n },
  { path: [], amount: 25_000n },
  { path: [0, 7], amount: 12_500n },
];

/** Four inputs (two on the group's own key, two on receive keys 0/1 and 0/7); a payment, change of a
 *  fifth of the total (rounded down to 1000 sat) and a fee of 500 sat. */
function spend(c: Cluster, inputs: readonly SpendInput[] = INPUTS): Transaction {
  const total = inputs.reduce((sum, i) => sum + i.amount, 0n);
  const change = (total / 5000n) * 1000n;
  return spendFrom(groupOf(c), inputs, [
    { outputKey: payee, amount: total - change - 500n },
    { changePath: [1, 0], amount: change },
  ]);
}

async function createPsbt(c: Cluster, creator: number, tx: Transaction, description = 'rent'): Promise<SessionSnapshot> {
  return c.nodes[creator]!.coordinator.createSession({
    signers: c.signerHexes(),
    payload: { kind: 'psbt', psbt: base64.encode(tx.toPSBT()), network: 'regtest' },
    description,
    tweak: 'taproot',
  });
}

async function approveAll(c: Cluster, sessionId: string, except = 0): Promise<void> {
  await c.runUntil(() => c.nodes.every((n, i) => i === except || n.requests.some((r) => r.sessionId === sessionId)));
  for (const [i, n] of c.nodes.entries()) if (i !== except) await n.coordinator.approve(sessionId);
}

function rejected(c: Cluster, node: number): Record<string, number> {
  return c.nodes[node]!.coordinator.health().rejectedMessages;
}

describe('co-signing a PSBT', () => {
  it('three signers sign every input in one session; bitcoinjs-lib and tiny-secp256k1 verify the transaction', async () => {
    const c = new Cluster(3, { seed: 'psbt-3', options: { bitcoinNetwork: 'regtest' } });
    await c.start();
    const tx = spend(c);
    const created = await createPsbt(c, 1, tx);
    expect(created.payloadKind).toBe('psbt');
    expect(created.psbt?.review.inputs.map((i) => [i.amount, i.path])).toEqual(
      INPUTS.map((i) => [Number(i.amount), 'path' in i ? i.path : null]),
    );
    expect(created.psbt?.review.fee).toBe(500);
    // Every receiver shows the review its own node computed, before approving.
    await c.runUntil(() => c.nodes.every((n, i) => i === 1 || n.requests.length === 1));
    for (const i of [0, 2]) {
      const request = c.nodes[i]!.requests[0]!;
      expect(request.psbt?.review).toEqual(created.psbt?.review);
      expect(request.psbt?.review.outputs.map((o) => [o.amount, o.isChange])).toEqual([
        [150_000, false],
        [37_000, true],
      ]);
      expect(request.psbt?.transaction).toBeNull();
      expect(SnapshotSchema.safeParse(request).success).toBe(true);
    }
    await approveAll(c, created.sessionId, 1);
    expect(await c.runUntilPhase(created.sessionId, ['COMPLETE'])).toBe(true);

    const done = c.nodes.map((n) => c.snapshot(n.index, created.sessionId)!);
    const final = done[0]!.psbt!.transaction!;
    for (const s of done) {
      expect(SnapshotSchema.parse(s)).toBeTruthy();
      expect(s.psbt?.transaction).toEqual(final);
      expect(s.signatures).toHaveLength(INPUTS.length);
      // The snapshot's key is the group's key-path output key.
      expect(s.signingKey).toBe(bytesToHex(groupOf(c).base.outputKey));
    }
    // What was signed is what bitcoinjs-lib computes from the unsigned transaction: BIP341 key-path sighashes.
    const prevouts = spentOutputs(tx);
    const unsigned = bitcoin.Transaction.fromHex(bytesToHex(tx.unsignedTx));
    const sighashes = prevouts.map((_, i) =>
      bytesToHex(
        unsigned.hashForWitnessV1(
          i,
          prevouts.map((p) => p.script),
          prevouts.map((p) => p.amount),
          bitcoin.Transaction.SIGHASH_DEFAULT,
        ),
      ),
    );
    expect(done[0]!.messages.map((m) => m.hex)).toEqual(sighashes);
    expect(verifyWithBitcoinJs(final.rawTxHex, prevouts)).toEqual([true, true, true, true]);
    const btx = bitcoin.Transaction.fromHex(final.rawTxHex);
    expect(btx.getId()).toBe(final.txid);
    expect(btx.outs.map((o) => o.value)).toEqual([150_000n, 37_000n]);
    // The finalized PSBT extracts to the same transaction.
    const finalized = Transaction.fromPSBT(base64.decode(final.psbtBase64));
    expect(bytesToHex(finalized.extract())).toBe(final.rawTxHex);

    // Public data, stored: after a restart the history still shows the review and the transaction.
    const again = await c.restart(c.nodes[2]!);
    const restored = await again.get(created.sessionId);
    expect(restored?.psbt).toEqual(done[2]!.psbt);
    expect(restored?.messages).toEqual(done[2]!.messages);
    expect(again.health().corruptRecords).toBe(0);
  });

  it('writes the BIP373 fields into its copy as the rounds progress, clears them for a new attempt, and finishes', async () => {
    const c = new Cluster(3, { seed: 'psbt-bip373' });
    await c.start();
    const tx = spend(c, INPUTS.slice(0, 2));
    const created = await createPsbt(c, 0, tx);
    const plan = intakePsbt(
      { kind: 'psbt', network: 'regtest', allowNonDefaultSighash: false, psbt: tx.toPSBT() },
      c.nodes.map((n) => n.signer.publicKey),
      cache,
      undefined,
    ).plan;
    const progressOf = async (node: number) =>
      readBip373Progress(importPsbt(await c.nodes[node]!.coordinator.psbt(created.sessionId)).tx, plan);
    const has = (rows: readonly (readonly (Uint8Array | undefined)[])[]) => rows.map((row) => row.every((v) => v !== undefined));
    // No partial signature arrives anywhere: each node holds every nonce and only its own partial signatures.
    c.net.tamper = (sent) => (decodeFrame(sent.frame).type === 'partials' ? undefined : sent.frame);
    await approveAll(c, created.sessionId);
    await c.runUntil(() => false, 60_000);
    const local = plan.participants.findIndex((k) => bytesToHex(k) === c.nodes[0]!.signer.hex);
    const before = await progressOf(0);
    expect(has(before.pubNonces)).toEqual([true, true, true]);
    expect(has(before.partialSigs)).toEqual([0, 1, 2].map((i) => i === local));
    const copy = importPsbt(await c.nodes[0]!.coordinator.psbt(created.sessionId)).tx;
    expect(copy.getInput(1).musig2ParticipantPubkeys).toEqual([[plan.aggregateKey, [...plan.participants]]]);
    // A new attempt: every copy drops attempt 1's nonces and partial signatures, and the session completes.
    c.net.tamper = undefined;
    await c.nodes[0]!.coordinator.resume(created.sessionId);
    expect(await c.runUntilPhase(created.sessionId, ['COMPLETE'])).toBe(true);
    for (const n of c.nodes) expect(c.snapshot(n.index, created.sessionId)!.attempt).toBe(2);
    const final = c.snapshot(1, created.sessionId)!.psbt!.transaction!;
    expect(verifyWithBitcoinJs(final.rawTxHex, spentOutputs(tx))).toEqual([true, true]);
  });

  it('a request restarted before its approval imports and plans its PSBT again, then signs', async () => {
    const c = new Cluster(3, { seed: 'psbt-restart' });
    await c.start();
    const tx = spend(c, INPUTS.slice(0, 2));
    const created = await createPsbt(c, 0, tx);
    await c.runUntil(() => c.nodes.slice(1).every((n) => n.requests.length === 1));
    const node = await c.restart(c.nodes[2]!);
    expect(node.health().corruptRecords).toBe(0);
    expect((await node.get(created.sessionId))?.psbt?.review).toEqual(created.psbt?.review);
    await c.nodes[1]!.coordinator.approve(created.sessionId);
    await node.approve(created.sessionId);
    expect(await c.runUntilPhase(created.sessionId, ['COMPLETE'])).toBe(true);
    const final = c.snapshot(2, created.sessionId)!.psbt!.transaction!;
    expect(verifyWithBitcoinJs(final.rawTxHex, spentOutputs(tx))).toEqual([true, true]);
    expect(c.snapshot(0, created.sessionId)!.psbt!.transaction).toEqual(final);
    // The copy of a finished session is the finalized PSBT.
    expect(await node.psbt(created.sessionId)).toBe(final.psbtBase64);
  });
});

describe('hostile PSBT requests', () => {
  it('refuses at intake an announcement whose PSBT spends an input the group does not own: nothing shown, nothing signed', async () => {
    const c = new Cluster(3, { seed: 'psbt-foreign' });
    await c.start();
    const tx = spend(c, [...INPUTS.slice(0, 2), { outputKey: stranger[1]!.publicKey.subarray(1), amount: 60_000n }]);
    // The creator's own node refuses to send it, with the reason per input.
    await expect(createPsbt(c, 0, tx)).rejects.toMatchObject({ code: 'PSBT_REFUSED', context: { input: 2, code: 'not-ours' } });
    // A creator running other code signs and sends it anyway.
    const now = c.time.now();
    const body: AnnouncementBody = {
      signers: c.nodes.map((n) => n.signer.publicKey),
      creatorIndex: 0,
      tweak: 'taproot',
      createdAt: now,
      expiresAt: now + 3_600_000,
      salt: new Uint8Array(32).fill(3),
      display: 'surely fine',
      payload: { kind: 'psbt', network: 'regtest', allowNonDefaultSighash: false, psbt: tx.toPSBT() },
    };
    const announcement = signAnnouncement(body, c.nodes[0]!.signer.secret, new Uint8Array(32));
    for (const peer of ['peer-1', 'peer-2']) c.net.deliver(peer, announcement.frame, 'peer-0');
    await c.runUntil(() => false, 60_000);
    // Delivered again (a transport retry): known as refused, not reviewed again.
    c.net.deliver('peer-1', announcement.frame, 'peer-0');
    await c.settle();
    expect(rejected(c, 1)).toEqual({ PSBT_REFUSED: 1, REPLAYED: 1 });
    for (const i of [1, 2]) {
      const node = c.nodes[i]!;
      expect(node.requests).toEqual([]);
      expect(node.coordinator.list()).toEqual([]);
      expect(await node.store.keys()).toEqual([]);
      expect(rejected(c, i)).toMatchObject({ PSBT_REFUSED: 1 });
      const [refusal] = node.coordinator.health().refusedRequests;
      expect(refusal).toMatchObject({ sessionId: announcement.idHex, creator: c.nodes[0]!.signer.hex, code: 'PSBT_REFUSED' });
      expect(refusal!.reason).toMatch(/input 2: this input spends a taproot output that is neither this group's key/);
    }
    // All either co-signer sent was its DECLINE, once, to the creator only: no nonce was made.
    for (const peer of ['peer-1', 'peer-2']) {
      const sent = sentFrames(c.net, { from: peer });
      expect(sent.map((f) => [typeOf(f.frame), f.to])).toEqual([['decline', 'peer-0']]);
    }
  });

  it('a tampered PSBT (an output swapped) is refused unsigned, and re-signed it is a different session: the approved one is unaffected', async () => {
    const c = new Cluster(3, { seed: 'psbt-tamper' });
    await c.start();
    const tx = spend(c, INPUTS.slice(0, 3));
    const created = await createPsbt(c, 0, tx);
    await approveAll(c, created.sessionId);
    const original = sentFrames(c.net, { from: 'peer-0', type: 'announcement' })[0]!.frame;
    const decoded = decodeFrame(original);
    if (decoded.type !== 'announcement' || decoded.body.payload.kind !== 'psbt') throw new Error('not a PSBT announcement');

    // Same inputs, the payment now goes to Mallory.
    const swapped = Transaction.fromPSBT(decoded.body.payload.psbt);
    swapped.updateOutput(0, {
      script: spendFrom(groupOf(c), [], [{ outputKey: stranger[1]!.publicKey.subarray(1), amount: 1n }]).getOutput(0).script!,
    });
    const tamperedBody: AnnouncementBody = { ...decoded.body, payload: { ...decoded.body.payload, psbt: swapped.toPSBT() } };
    // Resent with the original signature: not the creator's.
    const forged = new Uint8Array([
      ...signAnnouncement(tamperedBody, c.nodes[0]!.signer.secret, new Uint8Array(32)).frame.slice(0, -64),
      ...original.slice(-64),
    ]);
    c.net.deliver('peer-1', forged, 'peer-0');
    // Re-signed by the creator's key: a new request, with its own id and its own review.
    const resigned = signAnnouncement(tamperedBody, c.nodes[0]!.signer.secret, new Uint8Array(32).fill(9));
    c.net.deliver('peer-2', resigned.frame, 'peer-0');
    expect(await c.runUntilPhase(created.sessionId, ['COMPLETE'])).toBe(true);

    expect(resigned.idHex).not.toBe(created.sessionId);
    expect(rejected(c, 1)).toEqual({ BAD_SIGNATURE: 1 });
    const second = c.nodes[2]!.requests.find((r) => r.sessionId === resigned.idHex)!;
    expect(second.phase).toBe('AWAITING_APPROVAL');
    expect(second.psbt?.review.outputs[0]!.address).not.toBe(created.psbt?.review.outputs[0]!.address);
    expect(second.psbt?.review.digest).not.toBe(created.psbt?.review.digest);
    // The approved session signed the original transaction, paying the original payee.
    const final = c.snapshot(2, created.sessionId)!.psbt!.transaction!;
    const btx = bitcoin.Transaction.fromHex(final.rawTxHex);
    expect(bytesToHex(btx.outs[0]!.script)).toBe(bytesToHex(tx.getOutput(0).script!));
    expect(verifyWithBitcoinJs(final.rawTxHex, spentOutputs(tx))).toEqual([true, true, true]);
  });

  it('refuses a request for another network than the one this node signs for, and tells its creator why at once', async () => {
    const c = new Cluster(3, { seed: 'psbt-network', nodeOptions: (i) => ({ bitcoinNetwork: i === 1 ? 'mainnet' : 'regtest' }) });
    await c.start();
    const created = await createPsbt(c, 0, spend(c, INPUTS.slice(0, 1)));
    // Long before the request would expire, the creator sees it declined. The refusal goes to the
    // creator only (docs/PROTOCOL.md §Receiving): the other co-signer still has it to decide on.
    expect(await c.runUntil(() => c.snapshot(0, created.sessionId)?.phase === 'DECLINED', 60_000)).toBe(true);
    expect(c.snapshot(2, created.sessionId)?.phase).toBe('AWAITING_APPROVAL');
    expect(c.nodes[1]!.requests).toEqual([]);
    expect(rejected(c, 1)).toEqual({ PSBT_REFUSED: 1 });
    expect(c.nodes[1]!.coordinator.health().refusedRequests[0]?.reason).toMatch(/for regtest; this node is set to mainnet/);
    const { failure } = c.snapshot(0, created.sessionId)!;
    expect(failure).toMatchObject({ code: 'DECLINED', blame: [1] });
    expect(failure!.reason).toMatch(/^refused on reading the request \(PSBT_REFUSED\): .*for regtest; this node is set to mainnet/);
    // Nothing was signed: no nonce left any node.
    expect(c.net.log.filter((f) => typeOf(f.frame) === 'nonces')).toEqual([]);
  });

  it("non-default sighash on the creator's word: a co-signer whose own setting refuses it declines at intake", async () => {
    const c = new Cluster(3, {
      seed: 'psbt-sighash',
      nodeOptions: (i) => ({ bitcoinNetwork: 'regtest', allowNonDefaultSighash: () => i !== 1 }),
    });
    await c.start();
    const tx = spend(c, INPUTS.slice(0, 2));
    tx.updateInput(1, { sighashType: 0x81 });
    const created = await c.nodes[0]!.coordinator.createSession({
      signers: c.signerHexes(),
      payload: { kind: 'psbt', psbt: base64.encode(tx.toPSBT()), network: 'regtest', allowNonDefaultSighash: true },
      description: 'anyone can pay',
      tweak: 'taproot',
    });
    // The refusal goes to the creator only (strangers must not make a node send to keys of their choosing).
    expect(await c.runUntil(() => c.snapshot(0, created.sessionId)?.phase === 'DECLINED', 60_000)).toBe(true);
    expect(c.snapshot(2, created.sessionId)?.phase).toBe('AWAITING_APPROVAL');
    expect(c.nodes[1]!.requests).toEqual([]);
    expect(c.snapshot(0, created.sessionId)!.failure!.reason).toMatch(
      /input 1: .*ALL\|ANYONECANPAY; this app's settings allow signing only DEFAULT/,
    );
    expect(c.net.log.filter((f) => typeOf(f.frame) === 'nonces')).toEqual([]);
  });
});
