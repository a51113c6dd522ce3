/**
 * A large PSBT across two NATs: a 100-input spend co-signed by two homes (home 2 symmetric) through
 * the group's own `cosigner relay --limits none`, into a transaction bitcoinjs-lib verifies. The
 * announcement alone is about 12 KiB and each side sends 23 to 35 KiB (docs/NETWORK.md, "What a
 * session sends").
 *
 * Needs root, `ip` and `iptables`; without them it fails, naming what is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import type { ControlClient } from '../../../main/daemon/control-client.ts';
import { GroupKeysCache } from '../../../main/session/psbt-session.ts';
import { waitForSession } from '../../../docs/examples/cosign-message.ts';
import { natRun, startNatDaemon, startNatRelay } from '../../support/nat-daemons.ts';
import { createNatTopology, RELAY_IP, type NatTopology } from '../../support/nat-topology.ts';
import { cosigners, spendFrom, spentOutputs, verifyWithBitcoinJs } from '../../support/psbt-fixtures.ts';

const INPUTS = 100;

describe("two homes and the group's own relay without limits", () => {
  let topo: NatTopology | undefined;
  const run = natRun(() => topo);
  let a: ControlClient['bridge'];
  let b: ControlClient['bridge'];
  let relayPeerId: string;

  beforeAll(async () => {
    topo = await createNatTopology('symmetric');
    const relay = await startNatRelay(topo, run, topo.ns.relay, RELAY_IP, 'none');
    relayPeerId = relay.address.split('/p2p/')[1]!;
    a = (await startNatDaemon(topo, run, topo.ns.home1, 'Home1', [relay.address])).bridge;
    b = (await startNatDaemon(topo, run, topo.ns.home2, 'Home2', [relay.address])).bridge;
  }, 120_000);

  afterAll(() => run.cleanup(), 60_000);

  it(`co-sign a ${INPUTS}-input PSBT through it into a transaction bitcoinjs-lib verifies`, { timeout: 240_000 }, async () => {
    const keyA = await a.call('keys.importSecret', { secretHex: bytesToHex(schnorr.utils.randomSecretKey()) });
    const keyB = await b.call('keys.importSecret', { secretHex: bytesToHex(schnorr.utils.randomSecretKey()) });
    const publicKeys = [keyA.publicKey, keyB.publicKey];
    const group = await a.call('groups.save', { name: 'Home1 and Home2', publicKeys });
    await b.call('groups.save', { name: 'Home1 and Home2', publicKeys });
    const keys = new GroupKeysCache().of(publicKeys);
    const payee = cosigners(1, 'nat-psbt-100-payee')[0]!.publicKey.subarray(1);
    const inputs = Array.from({ length: INPUTS }, (_, i) => ({ path: [0, i], amount: 10_000n }));
    const tx = spendFrom(keys, inputs, [{ outputKey: payee, amount: BigInt(INPUTS) * 10_000n - 5_000n }]);
    const started = Date.now();
    const incoming = waitForSession(b, (s) => s.awaitingLocalApproval && s.payloadKind === 'psbt', 180_000);
    const created = await a.call('sessions.createPsbt', {
      groupId: group.id,
      psbt: base64.encode(tx.toPSBT()),
      description: `${INPUTS} inputs, two NATs`,
    });
    const request = await incoming;
    const doneA = waitForSession(a, (s) => s.sessionId === created.sessionId && s.phase === 'COMPLETE', 180_000);
    const doneB = waitForSession(b, (s) => s.sessionId === created.sessionId && s.phase === 'COMPLETE', 180_000);
    const approvedAt = Date.now();
    await b.call('sessions.approve', { sessionId: request.sessionId });
    const [finalA, finalB] = await Promise.all([doneA, doneB]);
    const transaction = finalA.psbt!.transaction!;
    expect(finalB.psbt?.transaction).toEqual(transaction);
    expect(verifyWithBitcoinJs(transaction.rawTxHex, spentOutputs(tx))).toEqual(Array(INPUTS).fill(true));
    const path = (await a.call('node.status', {})).cosigners?.[0];
    console.log(
      `[nat] ${INPUTS}-input PSBT through the group's own relay: COMPLETE ${Date.now() - started} ms after the request (${Date.now() - approvedAt} ms after the approval), path ${path?.path}`,
    );
    expect(path).toMatchObject({ path: 'relayed', relay: relayPeerId });
  });
});
