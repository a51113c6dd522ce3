/**
 * The whole sending path: coins on a local Esplora server → wallet.refresh → wallet.buildSend (fee
 * rate from the server's estimates) → the ordinary co-signing request between two real coordinators
 * (in-process transport), each reviewing it → COMPLETE → wallet.broadcast, which reaches the server
 * byte for byte → a refresh shows the spend → wallet.bumpFee's replacement co-signed the same way
 * and broadcast in its place. The signatures are checked by bitcoinjs-lib and
 * tiny-secp256k1, not by us.
 */
import * as bitcoin from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../../main/book/settings-store.ts';
import { walletHandlers } from '../../../main/handlers/wallet.ts';
import { GroupKeysCache, SpendKeysCache } from '../../../main/session/psbt-session.ts';
import { createSystemScheduler } from '../../../main/system-ports.ts';
import { describeGroup } from '../../../main/wallet/group.ts';
import { importPsbt } from '../../../main/wallet/psbt-import.ts';
import { reviewPsbt } from '../../../main/wallet/psbt-review.ts';
import type { Settings } from '../../../preload/contract.ts';
import { REGTEST, startEsploraServer, type EsploraServer } from '../../support/esplora-server.ts';
import { MemoryRecordStore } from '../../support/memory-record-store.ts';
import { cosigners, spentOutputs, verifyWithBitcoinJs } from '../../support/psbt-fixtures.ts';
import { Cluster } from '../../support/session-cluster.ts';

const payee = bitcoin.payments.p2tr({
  internalPubkey: Buffer.from(cosigners(1, 'send-payee')[0]!.publicKey.subarray(1)),
  network: REGTEST,
}).address!;

describe('sending from the group wallet through a co-signing session', () => {
  let server: EsploraServer;
  beforeAll(async () => {
    server = await startEsploraServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('build → co-sign by two nodes → broadcast byte-exact → the refresh shows the spend → a co-signed fee bump replaces it', async () => {
    const c = new Cluster(2, { seed: 'send-cosign', options: { bitcoinNetwork: 'regtest' } });
    await c.start();
    const group = describeGroup('Pair', c.signerHexes(), 'regtest');
    const groupKeys = new GroupKeysCache();
    const keys = groupKeys.of(group.publicKeys);
    server.chain.pay([{ address: keys.address([0, 0], 'regtest'), value: 70_000 }]);
    server.chain.pay([{ address: keys.address([0, 1], 'regtest'), value: 45_000 }]);
    server.chain.mine();
    const settings: Settings = {
      ...DEFAULT_SETTINGS,
      network: 'regtest',
      chainBackends: { ...DEFAULT_SETTINGS.chainBackends, regtest: { esploraUrl: server.url, electrumUrl: null, explorerUrl: null } },
      walletGapLimit: 3,
      walletRefreshSeconds: 0,
    };
    const wallet = walletHandlers({
      group: () => group,
      groupKeys,
      spendKeys: new SpendKeysCache(),
      settings: () => settings,
      store: new MemoryRecordStore(),
      fetch,
      clock: { now: () => Date.UTC(2026, 11, 2) },
      scheduler: createSystemScheduler(),
      emit: () => {},
    });
    const h = wallet.handlers;
    await expect(
      h['wallet.buildSend']({ groupId: group.id, recipients: [{ address: payee, amount: 100_000 }], feeRate: 2 }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect((await h['wallet.refresh']({ groupId: group.id })).state?.balance.confirmed).toBe(115_000);

    const built = await h['wallet.buildSend']({
      groupId: group.id,
      recipients: [{ address: payee, amount: 100_000 }],
      feeRate: 'estimate',
    });
    // The test server's 3-block estimate is 8.3 sat/vB.
    expect(built.feeRate).toBe(9);
    expect(server.requests).toContain('GET /fee-estimates');
    expect(built.change?.address).toBe(keys.address([1, 0], 'regtest'));

    const created = await c.nodes[0]!.coordinator.createSession({
      signers: c.signerHexes(),
      payload: { kind: 'psbt', psbt: built.psbtBase64, network: 'regtest' },
      description: 'rent',
      tweak: 'taproot',
    });
    await c.runUntil(() => c.nodes[1]!.requests.some((r) => r.sessionId === created.sessionId));
    // The co-signer's own node reviewed it: both inputs the group's, the change shown as change.
    const review = c.nodes[1]!.requests.find((r) => r.sessionId === created.sessionId)!.psbt!.review;
    expect(review.signable).toBe(true);
    expect(review.fee).toBe(built.fee);
    expect(review.outputs.map((o) => [o.address, o.amount, o.isChange]).sort()).toEqual(
      [
        [payee, 100_000, false],
        [built.change!.address, built.change!.amount, true],
      ].sort(),
    );
    await c.nodes[1]!.coordinator.approve(created.sessionId);
    expect(await c.runUntilPhase(created.sessionId, ['COMPLETE'])).toBe(true);

    const final = c.snapshot(0, created.sessionId)!.psbt!.transaction!;
    const prevouts = spentOutputs(importPsbt(built.psbtBase64).tx);
    expect(verifyWithBitcoinJs(final.rawTxHex, prevouts)).toEqual(prevouts.map(() => true));
    // BIP341 commits to every spent amount: had the server lied about a coin's value (so the PSBT and
    // its review showed another fee), the signatures would not hold for the real coins.
    expect(
      verifyWithBitcoinJs(
        final.rawTxHex,
        prevouts.map((p, i) => (i === 0 ? { ...p, amount: p.amount + 1000n } : p)),
      ),
    ).toEqual(prevouts.map(() => false));
    const btx = bitcoin.Transaction.fromHex(final.rawTxHex);
    expect(btx.ins.every((i) => i.sequence === 0xfffffffd)).toBe(true);
    // The fee paid is the one built, at the rate asked, over the real signed size.
    expect(115_000 - btx.outs.reduce((s, o) => s + Number(o.value), 0)).toBe(built.fee);
    expect(built.fee).toBeGreaterThanOrEqual(9 * btx.virtualSize());

    const sent = await h['wallet.broadcast']({ groupId: group.id, txHex: final.rawTxHex });
    expect(sent.txid).toBe(btx.getId());
    expect(server.broadcasts).toEqual([final.rawTxHex]);
    expect(server.chain.mempool).toContain(sent.txid);

    const after = (await h['wallet.refresh']({ groupId: group.id })).state!;
    expect(after.history[0]).toMatchObject({ txid: sent.txid, confirmed: false, sent: 115_000, received: built.change!.amount });
    expect(after.balance).toEqual({ confirmed: 0, unconfirmed: built.change!.amount });
    expect(after.change[0]?.used).toBe(true);

    // Stuck: a replacement at 20 sat/vB, the same coins and payment, the higher fee from the change.
    const bump = await h['wallet.bumpFee']({ groupId: group.id, txid: sent.txid, feeRate: 20 });
    const replacement = bitcoin.Psbt.fromBase64(bump.psbtBase64, { network: REGTEST });
    const outpoints = (ins: { hash: Uint8Array; index: number }[]) =>
      ins.map((i) => `${Buffer.from(i.hash).toString('hex')}:${i.index}`).sort();
    expect(outpoints(replacement.txInputs)).toEqual(outpoints(btx.ins));
    expect(replacement.txInputs.every((i) => i.sequence === 0xfffffffd)).toBe(true);
    const paid = replacement.txOutputs.map((o) => ({
      address: bitcoin.address.fromOutputScript(Buffer.from(o.script), REGTEST),
      value: Number(o.value),
    }));
    expect(paid).toContainEqual({ address: payee, value: 100_000 });
    expect(paid).toContainEqual({ address: built.change!.address, value: bump.change!.amount });
    const replacementFee = 115_000 - paid.reduce((s, o) => s + o.value, 0);
    expect(replacementFee).toBe(bump.fee);
    // BIP125: at least the old fee plus 1 sat/vB of its own size, and the rate asked.
    expect(bump.fee).toBeGreaterThanOrEqual(built.fee + bump.vsize);
    expect(bump.fee).toBeGreaterThanOrEqual(20 * bump.vsize);
    const bumpReview = reviewPsbt(importPsbt(bump.psbtBase64), keys, 'regtest');
    expect(bumpReview.signable).toBe(true);
    expect(bumpReview.outputs.filter((o) => o.isChange).map((o) => o.address)).toEqual([built.change!.address]);
    await expect(h['wallet.bumpFee']({ groupId: group.id, txid: sent.txid, feeRate: 2000 })).rejects.toMatchObject({
      code: 'INSUFFICIENT_FUNDS',
    });

    // The replacement goes through the ordinary co-signing request: the co-signer's node reviews it
    // and both sign it again; bitcoinjs-lib and tiny-secp256k1 check the signatures.
    const bumpSession = await c.nodes[0]!.coordinator.createSession({
      signers: c.signerHexes(),
      payload: { kind: 'psbt', psbt: bump.psbtBase64, network: 'regtest' },
      description: 'rent, faster',
      tweak: 'taproot',
    });
    await c.runUntil(() => c.nodes[1]!.requests.some((r) => r.sessionId === bumpSession.sessionId));
    expect(c.nodes[1]!.requests.find((r) => r.sessionId === bumpSession.sessionId)!.psbt!.review.fee).toBe(bump.fee);
    await c.nodes[1]!.coordinator.approve(bumpSession.sessionId);
    expect(await c.runUntilPhase(bumpSession.sessionId, ['COMPLETE'])).toBe(true);
    const bumped = c.snapshot(0, bumpSession.sessionId)!.psbt!.transaction!;
    const btxBumped = bitcoin.Transaction.fromHex(bumped.rawTxHex);
    expect(verifyWithBitcoinJs(bumped.rawTxHex, prevouts)).toEqual(prevouts.map(() => true));
    expect(outpoints(btxBumped.ins)).toEqual(outpoints(btx.ins));
    expect(btxBumped.ins.every((i) => i.sequence === 0xfffffffd)).toBe(true);
    expect(115_000 - btxBumped.outs.reduce((s, o) => s + Number(o.value), 0)).toBe(bump.fee);
    expect(bump.fee).toBeGreaterThanOrEqual(20 * btxBumped.virtualSize());

    // The server takes it as the replacement (Bitcoin Core's BIP125 fee rules) and drops the original;
    // the original, sent again, is now the one refused.
    expect(await h['wallet.broadcast']({ groupId: group.id, txHex: bumped.rawTxHex })).toMatchObject({ txid: btxBumped.getId() });
    expect(server.broadcasts).toEqual([final.rawTxHex, bumped.rawTxHex]);
    expect(server.chain.mempool).toContain(btxBumped.getId());
    expect(server.chain.mempool).not.toContain(sent.txid);
    await expect(h['wallet.broadcast']({ groupId: group.id, txHex: final.rawTxHex })).rejects.toMatchObject({
      code: 'BROADCAST_REJECTED',
      message: expect.stringContaining('insufficient fee'),
    });
    const replaced = (await h['wallet.refresh']({ groupId: group.id })).state!;
    expect(replaced.history[0]).toMatchObject({ txid: btxBumped.getId(), confirmed: false, sent: 115_000, received: bump.change!.amount });
    expect(replaced.history.map((t) => t.txid)).not.toContain(sent.txid);
    expect(replaced.balance).toEqual({ confirmed: 0, unconfirmed: bump.change!.amount });

    server.chain.mine();
    await h['wallet.refresh']({ groupId: group.id });
    await expect(h['wallet.bumpFee']({ groupId: group.id, txid: btxBumped.getId(), feeRate: 30 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    wallet.stop();
  });
});
