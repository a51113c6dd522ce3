/**
 * Rendezvous with zero set-up, behind real NATs: two `cosigner serve` daemons, each in a home
 * behind its own NAT router (home 2 symmetric), are told only each other's signer keys (a saved
 * group) and, as their public network's bootstrap peers, two stand-ins for public IPFS nodes on the
 * test's "internet" (test/support/public-ipfs-node.ts: Amino DHT servers with relay v2 at kubo's
 * limits, no Cosigner protocol). No relay address is given. Each must join the Amino DHT, take a
 * reservation on a public relay it met there, provide its signer key's rendezvous CID, find the
 * other's provider record, dial it through that relay, and complete a 2-of-2 message session.
 *
 * Needs root, `ip` and `iptables`; without them it fails, naming what is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { ControlClient } from '../../../main/daemon/control-client.ts';
import { cosignMessage } from '../../../docs/examples/cosign-message.ts';
import path from 'node:path';
import { ROOT } from '../../support/daemon-process.ts';
import { natRun, startNatDaemon, startPublicNode } from '../../support/nat-daemons.ts';
import { createNatTopology, RELAY2_IP, RELAY_IP, type NatTopology } from '../../support/nat-topology.ts';

describe('co-signers in two homes meet through the public network, no relay given', () => {
  let topo: NatTopology | undefined;
  const run = natRun(() => topo);
  let a: ControlClient['bridge'];
  let b: ControlClient['bridge'];
  let publicIds: string[];
  let publicAddrs: string[];

  beforeAll(async () => {
    topo = await createNatTopology('symmetric');
    const first = await startPublicNode(topo, run, topo.ns.relay, RELAY_IP);
    const second = await startPublicNode(topo, run, topo.ns.relay2, RELAY2_IP, [first]);
    publicAddrs = [first, second];
    publicIds = [first, second].map((addr) => addr.split('/p2p/')[1]!);
    const bootstrap = ['--public-bootstrap', first, '--public-bootstrap', second];
    a = (await startNatDaemon(topo, run, topo.ns.home1, 'Home1', [], bootstrap)).bridge;
    b = (await startNatDaemon(topo, run, topo.ns.home2, 'Home2', [], bootstrap)).bridge;
  }, 120_000);

  afterAll(() => run.cleanup(), 60_000);

  it('find each other by signer key and complete a 2-of-2 message session through a public relay', { timeout: 240_000 }, async () => {
    for (const bridge of [a, b]) await bridge.call('keys.importSecret', { secretHex: bytesToHex(schnorr.utils.randomSecretKey()) });
    const started = Date.now();
    const done = await cosignMessage(a, b, 'met on the public network').catch(async (err: unknown) => {
      const seen = await Promise.all(
        [a, b].map((x) =>
          x.call('node.status', {}).then((s) => ({ reachability: s.reachability, cosigners: s.cosigners, transport: s.transport })),
        ),
      );
      throw new Error(`${String(err)}\n${JSON.stringify(seen, null, 1)}\n${run.logs.map((l) => l.join('')).join('\n----\n')}`);
    });
    expect(done.phase).toBe('COMPLETE');

    const [statusA, statusB] = await Promise.all([a.call('node.status', {}), b.call('node.status', {})]);
    console.log(
      `[nat] public rendezvous: session COMPLETE in ${Date.now() - started} ms; ` +
        `Home1 reaches Home2 ${statusA.cosigners?.[0]?.path} via ${statusA.cosigners?.[0]?.relay}, Home2 reaches Home1 ${statusB.cosigners?.[0]?.path}`,
    );
    for (const s of [statusA, statusB]) {
      // Only public relays were there to use, met on the DHT: none configured, none from a card before.
      const reserved = s.reachability?.relays.filter((r) => r.reserved) ?? [];
      expect(reserved.length).toBeGreaterThan(0);
      expect(reserved.every((r) => publicIds.includes(r.peerId))).toBe(true);
      expect(s.reachability?.relays.some((r) => r.source === 'public' && r.reserved)).toBe(true);
      expect(s.reachability?.relays.some((r) => r.source === 'configured')).toBe(false);
      expect(s.cosigners).toEqual([expect.objectContaining({ path: 'relayed' })]);
      expect(publicIds).toContain(s.cosigners?.[0]?.relay);
    }
  });

  it(
    "answers a lookup of a signer key with its node's peer id and relay address (and, through identify, its listen addresses)",
    { timeout: 120_000 },
    async () => {
      // Runs after the session above (same file, in order): both daemons have announced themselves.
      const key = (await a.call('keys.status', {})).key!.publicKey;
      const peerId = (await a.call('node.status', {})).peerId;
      const spy = topo!.spawnIn(topo!.ns.relay2, process.execPath, [
        path.join(ROOT, 'test', 'support', 'find-providers.ts'),
        publicAddrs[1]!,
        key,
      ]);
      run.logs.push(spy.log);
      const providers = JSON.parse((await spy.waitFor(/Providers: (.*)\n/, 60_000))[1]!) as { id: string; addrs: string[] }[];
      console.log(`[nat] the public DHT's answer for Home1's rendezvous CID: ${JSON.stringify(providers)}`);
      expect(providers.map((p) => p.id)).toEqual([peerId]);
      const reserved = (await a.call('node.status', {})).reachability!.relayAddresses;
      expect(providers[0]!.addrs.filter((addr) => addr.includes('/p2p-circuit')).length).toBeGreaterThan(0);
      for (const addr of providers[0]!.addrs.filter((x) => x.includes('/p2p-circuit'))) expect(reserved).toContain(addr);
      // Our provider records carry no LAN address, but the DHT server answers with every address it
      // holds for the provider, and identify told it our listen addresses: the home's LAN address and
      // loopback go out too (docs/NETWORK.md says so; only the relay address is of use to a stranger).
      expect(providers[0]!.addrs.filter((x) => !x.includes('/p2p-circuit')).sort()).toEqual([
        '/ip4/127.0.0.1/tcp/4001',
        '/ip4/192.168.1.2/tcp/4001',
      ]);
    },
  );
});
