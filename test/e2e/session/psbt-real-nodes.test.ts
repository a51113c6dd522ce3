/**
 * A 3-of-3 co-signing of a multi-input PSBT over real nodes: three coordinators, each on its own
 * libp2p node on 127.0.0.1 (TCP, Noise, signer cards, the p2p SessionTransport), records on real
 * files, real time. The PSBT travels in the announcement; each node reviews and plans it itself;
 * the finished transaction is checked by bitcoinjs-lib (BIP341 sighashes) and tiny-secp256k1.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import * as bitcoin from 'bitcoinjs-lib';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionSnapshot as SnapshotSchema } from '../../../preload/contract.ts';
import { GroupKeysCache } from '../../../main/session/psbt-session.ts';
import { FileRecordStore } from '../../../main/storage/record-store.ts';
import { waitFor } from '../../integration/p2p/harness.ts';
import { startRealCluster } from '../../support/real-cluster.ts';
import { cosigners, spendFrom, spentOutputs, verifyWithBitcoinJs } from '../../support/psbt-fixtures.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

describe('co-signing a PSBT between real nodes', () => {
  it('A 3-of-3 co-signing of a multi-input PSBT over real nodes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cosigner-e2e-psbt-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const cluster = await startRealCluster(
      ['e2e-psbt-alice', 'e2e-psbt-bob', 'e2e-psbt-carol'],
      (i) => FileRecordStore.open(join(root, `n${i}`)),
      () => ({ options: { bitcoinNetwork: 'regtest' } }),
    );
    cleanups.push(() => cluster.stop());
    const { keys, coordinators } = cluster;

    // Five inputs: three on the group's own address, two on BIP328 receive addresses; payment and change.
    const group = new GroupKeysCache().of(keys);
    const payee = cosigners(1, 'e2e-psbt-payee')[0]!.publicKey.subarray(1);
    const tx = spendFrom(
      group,
      [
        { path: [], amount: 80_000n },
        { path: [0, 0], amount: 40_000n },
        { path: [], amount: 20_000n },
        { path: [0, 4], amount: 10_000n },
        { path: [], amount: 5_000n },
      ],
      [
        { outputKey: payee, amount: 120_000n },
        { changePath: [1, 2], amount: 34_200n },
      ],
    );
    const created = await coordinators[0]!.createSession({
      signers: keys.map(bytesToHex),
      payload: { kind: 'psbt', psbt: base64.encode(tx.toPSBT()), network: 'regtest' },
      description: 'between real nodes',
      tweak: 'taproot',
    });
    const id = created.sessionId;
    for (const c of coordinators.slice(1)) {
      await waitFor('the request', () => c.list().some((s) => s.sessionId === id));
      expect(c.list().find((s) => s.sessionId === id)?.psbt?.review.digest).toBe(created.psbt?.review.digest);
      await c.approve(id);
    }
    await waitFor(
      'COMPLETE everywhere',
      () => coordinators.every((c) => c.list().find((s) => s.sessionId === id)?.phase === 'COMPLETE'),
      60_000,
    );

    const done = coordinators.map((c) => c.list().find((s) => s.sessionId === id)!);
    const final = done[0]!.psbt!.transaction!;
    for (const s of done) {
      expect(SnapshotSchema.safeParse(s).success).toBe(true);
      expect(s.psbt?.transaction).toEqual(final);
      expect(s.signatures).toHaveLength(5);
    }
    expect(verifyWithBitcoinJs(final.rawTxHex, spentOutputs(tx))).toEqual([true, true, true, true, true]);
    const btx = bitcoin.Transaction.fromHex(final.rawTxHex);
    expect(btx.getId()).toBe(final.txid);
    expect(btx.ins.map((i) => bytesToHex(i.hash))).toEqual(
      Array.from({ length: 5 }, (_, i) => bytesToHex(tx.getInput(i).txid!).match(/../g)!.reverse().join('')),
    );
    expect(btx.outs.map((o) => o.value)).toEqual([120_000n, 34_200n]);
    for (const c of coordinators) expect(Object.keys(c.health().rejectedMessages)).toEqual([]);
  });
});
