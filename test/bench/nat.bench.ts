/**
 * Co-signers in two homes behind real NATs (test/support/nat-topology.ts; home 2 symmetric), two
 * ways of meeting:
 * - public rendezvous: only stand-ins for public IPFS nodes as bootstrap peers (Amino DHT, relays
 *   with kubo's limits), no relay given (test/integration/nat/public-rendezvous.test.ts);
 * - the group's own relay: `cosigner relay --limits none`, its address given to both.
 * Measured: from both daemons started (their keys imported, which starts their networks) to the
 * first frame delivered (the request in the other home), and from the last approval to the
 * signature held by both, over several message sessions. Needs root, `ip` and `iptables`.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { CosignerBridge } from '../../preload/contract.ts';
import { safetyCode } from '../../preload/safety-code.ts';
import { waitForSession } from '../../docs/examples/cosign-message.ts';
import { natRun, startNatDaemon, startNatRelay, startPublicNode } from '../support/nat-daemons.ts';
import { createNatTopology, RELAY2_IP, RELAY_IP, requireNatPrerequisites, type NatTopology } from '../support/nat-topology.ts';

const SESSIONS = 5;

type Setup = 'public rendezvous (kubo-limited public relays)' | "group's own relay (no limits)";

async function measure(setup: Setup): Promise<Record<string, string | number>> {
  let topo: NatTopology | undefined;
  const run = natRun(() => topo);
  try {
    topo = await createNatTopology('symmetric');
    let a: CosignerBridge;
    let b: CosignerBridge;
    if (setup === "group's own relay (no limits)") {
      const relay = await startNatRelay(topo, run, topo.ns.relay, RELAY_IP, 'none');
      a = (await startNatDaemon(topo, run, topo.ns.home1, 'Home1', [relay.address])).bridge;
      b = (await startNatDaemon(topo, run, topo.ns.home2, 'Home2', [relay.address])).bridge;
    } else {
      const first = await startPublicNode(topo, run, topo.ns.relay, RELAY_IP);
      const second = await startPublicNode(topo, run, topo.ns.relay2, RELAY2_IP, [first]);
      const bootstrap = ['--public-bootstrap', first, '--public-bootstrap', second];
      a = (await startNatDaemon(topo, run, topo.ns.home1, 'Home1', [], bootstrap)).bridge;
      b = (await startNatDaemon(topo, run, topo.ns.home2, 'Home2', [], bootstrap)).bridge;
    }
    const started = Date.now();
    await Promise.all([a, b].map((x) => x.call('keys.importSecret', { secretHex: bytesToHex(schnorr.utils.randomSecretKey()) })));
    const keyA = (await a.call('keys.status', {})).key!.publicKey;
    const keyB = (await b.call('keys.status', {})).key!.publicKey;
    const code = safetyCode(keyA, keyB);
    await a.call('contacts.save', { publicKey: keyB, name: 'B', safetyCode: code });
    await b.call('contacts.save', { publicKey: keyA, name: 'A', safetyCode: code });
    const group = await a.call('groups.save', { name: 'A and B', publicKeys: [keyA, keyB] });
    await b.call('groups.save', { name: 'A and B', publicKeys: [keyA, keyB] });
    let firstFrameMs = 0;
    const lastApproval: number[] = [];
    for (let i = 0; i <= SESSIONS; i++) {
      const text = `bench ${i}`;
      const incoming = waitForSession(b, (s) => s.awaitingLocalApproval && s.description === text, 180_000);
      const created = await a.call('sessions.create', { groupId: group.id, message: { kind: 'text', text }, description: text });
      await incoming;
      if (i === 0) firstFrameMs = Date.now() - started;
      const done = [a, b].map((x) => waitForSession(x, (s) => s.sessionId === created.sessionId && s.phase === 'COMPLETE', 180_000));
      const approvedAt = Date.now();
      await b.call('sessions.approve', { sessionId: created.sessionId });
      await Promise.all(done);
      // The first session also pays for the card exchange and the first streams: not a steady figure.
      if (i > 0) lastApproval.push(Date.now() - approvedAt);
    }
    lastApproval.sort((x, y) => x - y);
    return {
      setup,
      'started → first frame ms': firstFrameMs,
      sessions: SESSIONS,
      'last approval → signature, median ms': lastApproval[Math.floor(lastApproval.length / 2)]!,
      'max ms': lastApproval[lastApproval.length - 1]!,
    };
  } finally {
    await run.cleanup();
  }
}

export default async function bench(): Promise<void> {
  try {
    requireNatPrerequisites();
  } catch (err) {
    console.log(`not run: ${(err as Error).message}`);
    return;
  }
  const rows = [];
  for (const setup of ['public rendezvous (kubo-limited public relays)', "group's own relay (no limits)"] as const)
    rows.push(await measure(setup));
  console.table(rows);
}

if (import.meta.main) await bench();
