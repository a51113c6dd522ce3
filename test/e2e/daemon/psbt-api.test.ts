/**
 * Co-signing a transaction through the control API of two `cosigner serve` processes, as a script
 * following docs/API.md "Co-signing transactions" would: the group's wallet view, a review, a
 * refused PSBT, then a PSBT co-signed into a transaction that bitcoinjs-lib checks.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { base64 } from '@scure/base';
import { Address } from '@scure/btc-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupKeysCache } from '../../../main/session/psbt-session.ts';
import { BTC_NETWORKS } from '../../../main/wallet/networks.ts';
import { waitForSession } from '../../../docs/examples/cosign-message.ts';
import { cosigners, spendFrom, spentOutputs, verifyWithBitcoinJs } from '../../support/psbt-fixtures.ts';
import { startDaemonPair, type DaemonPair } from '../../support/daemon-process.ts';

describe('co-signing a PSBT through the control API of two daemons', () => {
  let pair: DaemonPair;

  beforeAll(async () => {
    pair = await startDaemonPair('Alice-psbt', 'Bob-psbt');
  });

  afterAll(async () => {
    await pair?.stop();
  });

  it('reviews, refuses a foreign input, then co-signs every input into a transaction', async () => {
    const [keyA, keyB] = await pair.importKeys(schnorr.utils.randomSecretKey(), schnorr.utils.randomSecretKey());
    const publicKeys = [keyA.publicKey, keyB.publicKey];
    const group = await pair.ca.bridge.call('groups.save', { name: 'A and B', publicKeys });
    await pair.cb.bridge.call('groups.save', { name: 'A and B', publicKeys });
    expect(group.network).toBe('regtest');

    // The wallet view: its receive address 0/1 is what the PSBT below spends from.
    const wallet = await pair.ca.bridge.call('groups.wallet', { id: group.id });
    const keys = new GroupKeysCache().of(publicKeys);
    expect(wallet.receiveAddresses[1]).toBe(Address(BTC_NETWORKS.regtest).encode({ type: 'tr', pubkey: keys.derive([0, 1]).outputKey }));
    const payee = cosigners(1, 'daemon-psbt-payee')[0]!.publicKey.subarray(1);
    const tx = spendFrom(
      keys,
      [
        { path: [], amount: 30_000n },
        { path: [0, 1], amount: 20_000n },
      ],
      [
        { outputKey: payee, amount: 45_000n },
        { changePath: [1, 0], amount: 4_000n },
      ],
    );
    const psbt = base64.encode(tx.toPSBT());

    const review = await pair.ca.bridge.call('psbt.review', { groupId: group.id, psbt });
    expect(review.signable).toBe(true);
    expect(review.fee).toBe(1_000);
    expect(review.inputs[1]!.address).toBe(wallet.receiveAddresses[1]);

    const foreign = spendFrom(
      keys,
      [
        { path: [], amount: 30_000n },
        { outputKey: payee, amount: 1_000n },
      ],
      [{ outputKey: payee, amount: 30_000n }],
    );
    await expect(
      pair.ca.bridge.call('sessions.createPsbt', { groupId: group.id, psbt: base64.encode(foreign.toPSBT()) }),
    ).rejects.toMatchObject({
      code: 'PSBT_REFUSED',
      context: { input: 1, code: 'not-ours' },
    });

    const incoming = waitForSession(pair.cb.bridge, (s) => s.awaitingLocalApproval && s.payloadKind === 'psbt');
    const created = await pair.ca.bridge.call('sessions.createPsbt', { groupId: group.id, psbt, description: 'pay the builder' });
    const request = await incoming;
    expect(request.sessionId).toBe(created.sessionId);
    expect(request.psbt?.review).toEqual(review);
    const doneA = waitForSession(pair.ca.bridge, (s) => s.sessionId === created.sessionId && s.phase === 'COMPLETE');
    const doneB = waitForSession(pair.cb.bridge, (s) => s.sessionId === created.sessionId && s.phase === 'COMPLETE');
    await pair.cb.bridge.call('sessions.approve', { sessionId: request.sessionId });
    const [finalA, finalB] = await Promise.all([doneA, doneB]);

    const transaction = finalA.psbt!.transaction!;
    expect(finalB.psbt?.transaction).toEqual(transaction);
    expect(verifyWithBitcoinJs(transaction.rawTxHex, spentOutputs(tx))).toEqual([true, true]);
    expect(await pair.cb.bridge.call('sessions.psbt', { sessionId: created.sessionId })).toEqual({ psbtBase64: transaction.psbtBase64 });
  });
});
