/**
 * Beyond a message: two homes (one behind a symmetric NAT) and two relays with go-libp2p's default
 * limits (128 KiB or 2 minutes per relayed connection). A 10-input PSBT is co-signed through a
 * relay into a transaction bitcoinjs-lib verifies; then the relay carrying the co-signers'
 * connection is killed mid-session (after the request arrived, before the approval), and the
 * session finishes through the other relay: the daemons hold a reservation on both, and their
 * cards name both.
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
import { createNatTopology, RELAY2_IP, RELAY_IP, type NatTopology, type NsProcess } from '../../support/nat-topology.ts';
import { cosigners, spendFrom, spentOutputs, verifyWithBitcoinJs } from '../../support/psbt-fixtures.ts';

type Bridge = ControlClient['bridge'];

describe('two homes, two relays with kubo default limits', () => {
  let topo: NatTopology | undefined;
  const run = natRun(() => topo);
  let a: Bridge;
  let b: Bridge;
  const relays = new Map<string, NsProcess>();
  let group: { id: string; publicKeys: string[] };

  beforeAll(async () => {
    topo = await createNatTopology('symmetric');
    const addresses: string[] = [];
    for (const [ns, ip] of [
      [topo.ns.relay, RELAY_IP],
      [topo.ns.relay2, RELAY2_IP],
    ] as const) {
      const relay = await startNatRelay(topo, run, ns, ip, 'kubo');
      relays.set(relay.address.split('/p2p/')[1]!, relay.process);
      addresses.push(relay.address);
    }
    a = (await startNatDaemon(topo, run, topo.ns.home1, 'Home1', addresses)).bridge;
    b = (await startNatDaemon(topo, run, topo.ns.home2, 'Home2', addresses)).bridge;
    const keyA = await a.call('keys.importSecret', { secretHex: bytesToHex(schnorr.utils.randomSecretKey()) });
    const keyB = await b.call('keys.importSecret', { secretHex: bytesToHex(schnorr.utils.randomSecretKey()) });
    const publicKeys = [keyA.publicKey, keyB.publicKey];
    group = await a.call('groups.save', { name: 'Home1 and Home2', publicKeys });
    await b.call('groups.save', { name: 'Home1 and Home2', publicKeys });
    // Both hold a reservation on both relays before anything is asked.
    for (const x of [a, b])
      await waitUntil(
        'reservations on both relays',
        async () => (await x.call('node.status', {})).reachability?.relays.filter((r) => r.reserved).length === 2,
      );
  }, 180_000);

  afterAll(() => run.cleanup(), 60_000);

  it('co-sign a 10-input PSBT through a limited relay into a transaction bitcoinjs-lib verifies', { timeout: 120_000 }, async () => {
    const keys = new GroupKeysCache().of(group.publicKeys);
    const payee = cosigners(1, 'nat-psbt-payee')[0]!.publicKey.subarray(1);
    const inputs = Array.from({ length: 10 }, (_, i) => ({ path: [0, i], amount: 10_000n }));
    const tx = spendFrom(keys, inputs, [
      { outputKey: payee, amount: 95_000n },
      { changePath: [1, 0], amount: 4_000n },
    ]);
    const started = Date.now();
    const incoming = waitForSession(b, (s) => s.awaitingLocalApproval && s.payloadKind === 'psbt', 90_000);
    const created = await a.call('sessions.createPsbt', {
      groupId: group.id,
      psbt: base64.encode(tx.toPSBT()),
      description: 'ten inputs, two NATs',
    });
    const request = await incoming;
    const doneA = waitForSession(a, (s) => s.sessionId === created.sessionId && s.phase === 'COMPLETE', 90_000);
    const doneB = waitForSession(b, (s) => s.sessionId === created.sessionId && s.phase === 'COMPLETE', 90_000);
    await b.call('sessions.approve', { sessionId: request.sessionId });
    const [finalA, finalB] = await Promise.all([doneA, doneB]);
    const transaction = finalA.psbt!.transaction!;
    expect(finalB.psbt?.transaction).toEqual(transaction);
    expect(verifyWithBitcoinJs(transaction.rawTxHex, spentOutputs(tx))).toEqual(Array(10).fill(true));
    const path = (await a.call('node.status', {})).cosigners?.[0];
    console.log(
      `[nat] 10-input PSBT through a kubo-limited relay: COMPLETE in ${Date.now() - started} ms, path ${path?.path} via ${path?.relay}`,
    );
    expect(path?.path).toBe('relayed');
  });

  it('finish a session through the other relay when the one carrying it is killed mid-session', { timeout: 150_000 }, async () => {
    const text = 'the relay dies, the session does not';
    const incoming = waitForSession(b, (s) => s.awaitingLocalApproval && s.description === text, 90_000);
    const created = await a.call('sessions.create', { groupId: group.id, message: { kind: 'text', text }, description: text });
    const request = await incoming;
    const before = (await a.call('node.status', {})).cosigners?.[0];
    expect(before?.path).toBe('relayed');
    const used = relays.get(before!.relay!)!;
    const other = [...relays.keys()].find((id) => id !== before!.relay)!;
    used.child.kill('SIGKILL');
    await new Promise<void>((resolve) =>
      used.child.exitCode !== null || used.child.signalCode !== null ? resolve() : used.child.once('exit', () => resolve()),
    );

    const started = Date.now();
    const ended = (x: Bridge) =>
      waitForSession(
        x,
        (s) => s.sessionId === created.sessionId && ['COMPLETE', 'ABORTED', 'EXPIRED', 'DECLINED'].includes(s.phase),
        120_000,
      );
    const endA = ended(a);
    const endB = ended(b);
    await b.call('sessions.approve', { sessionId: request.sessionId });
    const [finalA, finalB] = await Promise.all([endA, endB]);
    const after = (await a.call('node.status', {})).cosigners?.[0];
    console.log(
      `[nat] relay ${before!.relay} killed mid-session: ${finalA.phase} / ${finalB.phase} ${Date.now() - started} ms after the approval; now ${after?.path} via ${after?.relay}`,
    );
    expect(finalA.failure, 'the session ended instead of moving to the other relay').toBeNull();
    expect([finalA.phase, finalB.phase]).toEqual(['COMPLETE', 'COMPLETE']);
    expect(finalA.signatures).toEqual(finalB.signatures);
    expect(after).toMatchObject({ path: 'relayed', relay: other });
  });
});

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
