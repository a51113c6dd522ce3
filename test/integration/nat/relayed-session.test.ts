/**
 * Two `cosigner serve` daemons, each in a home behind its own NAT, that know only each other's
 * signer keys and the address of a relay on the "internet" (test/support/nat-topology.ts), co-sign
 * a message: each holds a reservation on the relay, publishes its relay address in its signer card
 * (kept in the relay's DHT), finds the other's card there and dials it through the relay. Neither
 * home accepts unsolicited inbound connections, so the relay is the only path; each case reports
 * the path the daemons say they used.
 *
 * Needs root, `ip` and `iptables` (the machine and CI have them); without them it fails, naming
 * what is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { ControlClient } from '../../../main/daemon/control-client.ts';
import { cosignMessage } from '../../../docs/examples/cosign-message.ts';
import { natRun, startNatDaemon, startNatRelay } from '../../support/nat-daemons.ts';
import { createNatTopology, RELAY_IP, type NatKind, type NatTopology } from '../../support/nat-topology.ts';

interface Case {
  name: string;
  home2: NatKind;
  /** `cosigner relay --limits`: kubo's defaults for a public relay, none for the group's own. */
  limits: 'kubo' | 'none';
}

const cases: Case[] = [
  { name: 'both homes behind endpoint-independent NATs, relay with kubo default limits', home2: 'endpoint-independent', limits: 'kubo' },
  { name: 'home 2 behind a symmetric NAT, relay with kubo default limits', home2: 'symmetric', limits: 'kubo' },
  { name: "home 2 behind a symmetric NAT, the group's own relay without limits", home2: 'symmetric', limits: 'none' },
];

describe.each(cases)('co-signers in two homes: $name', ({ home2, limits }) => {
  let topo: NatTopology | undefined;
  const run = natRun(() => topo);
  let a: ControlClient['bridge'];
  let b: ControlClient['bridge'];
  let relayPeerId: string;

  beforeAll(async () => {
    topo = await createNatTopology(home2);
    const relay = await startNatRelay(topo, run, topo.ns.relay, RELAY_IP, limits);
    relayPeerId = relay.address.split('/p2p/')[1]!;
    a = (await startNatDaemon(topo, run, topo.ns.home1, 'Home1', [relay.address])).bridge;
    b = (await startNatDaemon(topo, run, topo.ns.home2, 'Home2', [relay.address])).bridge;
  }, 120_000);

  afterAll(() => run.cleanup(), 60_000);

  it('complete a 2-of-2 message session through the relay, and say so', { timeout: 120_000 }, async () => {
    for (const bridge of [a, b]) await bridge.call('keys.importSecret', { secretHex: bytesToHex(schnorr.utils.randomSecretKey()) });
    const started = Date.now();
    const done = await cosignMessage(a, b, `co-signed across two NATs (${home2}, relay limits ${limits})`).catch(async (err: unknown) => {
      // What each side saw, for the failure message.
      const seen = await Promise.all(
        [a, b].map((x) =>
          x.call('node.status', {}).then((s) => ({ reachability: s.reachability, cosigners: s.cosigners, transport: s.transport })),
        ),
      );
      throw new Error(`${String(err)}\n${JSON.stringify(seen, null, 1)}\n${run.logs.map((l) => l.join('')).join('\n----\n')}`);
    });
    expect(done.phase).toBe('COMPLETE');

    const [statusA, statusB] = await Promise.all([a.call('node.status', {}), b.call('node.status', {})]);
    const keyA = (await a.call('keys.status', {})).key!.publicKey;
    const keyB = (await b.call('keys.status', {})).key!.publicKey;
    console.log(
      `[nat] ${home2} home 2, relay limits ${limits}: session COMPLETE in ${Date.now() - started} ms; ` +
        `Home1 reaches Home2 ${statusA.cosigners?.[0]?.path}, Home2 reaches Home1 ${statusB.cosigners?.[0]?.path}; ` +
        `own reachability ${statusA.reachability?.status} / ${statusB.reachability?.status}`,
    );
    // Each lists its co-signer, not itself; neither NAT lets an unsolicited connection in, and no
    // hole punching is attempted: the relay it is.
    expect(statusA.cosigners).toEqual([
      expect.objectContaining({ signerKey: keyB, displayName: 'Home2', path: 'relayed', relay: relayPeerId }),
    ]);
    expect(statusB.cosigners).toEqual([
      expect.objectContaining({ signerKey: keyA, displayName: 'Home1', path: 'relayed', relay: relayPeerId }),
    ]);
    for (const s of [statusA, statusB]) {
      expect(s.reachability?.status).toBe('relayed');
      expect(s.reachability?.relays).toEqual([expect.objectContaining({ source: 'configured', reserved: true })]);
      expect(
        s.reachability?.relayAddresses.every((addr) => addr.startsWith(`/ip4/${RELAY_IP}/tcp/4001/p2p/${relayPeerId}/p2p-circuit`)),
      ).toBe(true);
    }
  });
});
