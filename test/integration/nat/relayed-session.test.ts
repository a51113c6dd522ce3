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
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { connectControl, type ControlClient } from '../../../main/daemon/control-client.ts';
import { cosignMessage } from '../../../docs/examples/cosign-message.ts';
import { freePort, ROOT } from '../../support/daemon-process.ts';
import { createNatTopology, RELAY_IP, type NatKind, type NatTopology } from '../../support/nat-topology.ts';

const CLI = path.join(ROOT, 'main', 'cli.ts');

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
  const dirs: string[] = [];
  const clients: ControlClient[] = [];
  const logs: string[][] = [];

  beforeAll(async () => {
    topo = await createNatTopology(home2);
    const relayDir = await mkdtemp(path.join(tmpdir(), 'cosigner-relay-'));
    dirs.push(relayDir);
    const relay = topo.spawnIn(topo.ns.relay, process.execPath, [CLI, 'relay', '--data-dir', relayDir, '--listen', `/ip4/${RELAY_IP}/tcp/4001`, '--limits', limits, '--no-upnp']);
    const relayAddr = (await relay.waitFor(new RegExp(`Relay address: (/ip4/${RELAY_IP.replaceAll('.', '\\.')}/tcp/4001/p2p/\\S+)`), 30_000))[1]!;
    for (const [name, ns] of [
      ['Home1', topo.ns.home1],
      ['Home2', topo.ns.home2],
    ] as const) {
      const dataDir = await mkdtemp(path.join(tmpdir(), `cosigner-${name.toLowerCase()}-`));
      dirs.push(dataDir);
      // The control API listens on 127.0.0.1 inside the home; the same port on the host's loopback
      // is forwarded to it, so the Host header the daemon checks matches.
      const port = await freePort();
      const daemon = topo.spawnIn(
        ns,
        process.execPath,
        [CLI, 'serve', '--data-dir', dataDir, '--keystore', 'file', '--no-mdns', '--network', 'regtest', '--display-name', name, '--port', String(port),
          '--listen', '/ip4/0.0.0.0/tcp/4001', '--relay', relayAddr, '--bootstrap', relayAddr],
        { ...process.env, COSIGNER_KEYSTORE_PASSPHRASE: `nat ${name} passphrase` },
      );
      logs.push(daemon.log);
      const url = (await daemon.waitFor(/Open: (\S+)/, 30_000))[1]!;
      await topo.forwardLoopback(ns, port);
      clients.push(await connectControl(url));
    }
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await topo?.teardown();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }, 60_000);

  it('complete a 2-of-2 message session through the relay, and say so', { timeout: 120_000 }, async () => {
    const [a, b] = clients.map((c) => c.bridge) as [ControlClient['bridge'], ControlClient['bridge']];
    for (const bridge of [a, b]) await bridge.call('keys.importSecret', { secretHex: bytesToHex(schnorr.utils.randomSecretKey()) });
    const started = Date.now();
    const done = await cosignMessage(a, b, `co-signed across two NATs (${home2}, relay limits ${limits})`).catch(async (err: unknown) => {
      // What each side saw, for the failure message.
      const seen = await Promise.all([a, b].map((x) => x.call('node.status', {}).then((s) => ({ reachability: s.reachability, cosigners: s.cosigners, transport: s.transport, listen: s.listenAddresses }))));
      throw new Error(`${String(err)}\n${JSON.stringify(seen, null, 1)}\n${logs.join('\n----\n')}`);
    });
    expect(done.phase).toBe('COMPLETE');

    const statusA = await a.call('node.status', {});
    const statusB = await b.call('node.status', {});
    const keyB = (await b.call('keys.status', {})).key!.publicKey;
    const keyA = (await a.call('keys.status', {})).key!.publicKey;
    const bSeenByA = statusA.cosigners?.find((c) => c.signerKey === keyB);
    const aSeenByB = statusB.cosigners?.find((c) => c.signerKey === keyA);
    console.log(
      `[nat] ${home2} home 2, relay limits ${limits}: session COMPLETE in ${Date.now() - started} ms; ` +
        `Home1 reaches Home2 ${bSeenByA?.path}, Home2 reaches Home1 ${aSeenByB?.path}; ` +
        `own reachability ${statusA.reachability?.status} / ${statusB.reachability?.status}`,
    );
    // Neither NAT lets an unsolicited connection in, and no hole punching is attempted: the relay it is.
    expect(bSeenByA).toMatchObject({ displayName: 'Home2', path: 'relayed' });
    expect(aSeenByB).toMatchObject({ displayName: 'Home1', path: 'relayed' });
    // Each lists its co-signer, not itself.
    expect(statusA.cosigners?.map((c) => c.signerKey)).toEqual([keyB]);
    expect(statusB.cosigners?.map((c) => c.signerKey)).toEqual([keyA]);
    for (const s of [statusA, statusB]) {
      expect(s.reachability?.status).toBe('relayed');
      expect(s.reachability?.relays).toEqual([expect.objectContaining({ source: 'configured', reserved: true })]);
      expect(s.reachability?.relayAddresses.every((addr) => addr.startsWith(`/ip4/${RELAY_IP}/tcp/4001/p2p/`))).toBe(true);
    }
  });
});
