/**
 * The whole stack between real nodes: three coordinators, each on its own libp2p node on 127.0.0.1
 * (TCP, Noise, signer cards, the p2p SessionTransport), records on real files, real time. They
 * complete a BIP322 signature for the group's taproot address, and keep it through a restart.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { p2tr } from '@scure/btc-signer';
import { keyAggExport, keyAggregate, sortKeys } from '@scure/btc-signer/musig2.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileRecordStore } from '../../../main/storage/record-store.ts';
import { waitFor } from '../../integration/p2p/harness.ts';
import { knownGroups } from '../../support/known-groups.ts';
import { verifiesAsBip322 } from '../../support/bip322-check.ts';
import { startCoordinator, startRealCluster } from '../../support/real-cluster.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

describe('a session between real nodes', () => {
  it('completes over libp2p and the signature survives a restart', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cosigner-e2e-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const cluster = await startRealCluster(['e2e-alice', 'e2e-bob', 'e2e-carol'], (i) => FileRecordStore.open(join(root, `n${i}`)));
    cleanups.push(() => cluster.stop());
    const { nodes, keys, coordinators } = cluster;
    const message = bytesToHex(new Uint8Array(32).fill(0x42));
    const created = await coordinators[0]!.createSession({
      signers: keys.map(bytesToHex),
      payload: { kind: 'message', message, label: 'e2e' },
      description: 'between real nodes',
      tweak: 'taproot',
    });
    const id = created.sessionId;
    for (const c of coordinators.slice(1)) {
      await waitFor('the request', () => c.list().some((s) => s.sessionId === id));
      await c.approve(id);
    }
    await waitFor(
      'COMPLETE everywhere',
      () => coordinators.every((c) => c.list().find((s) => s.sessionId === id)?.phase === 'COMPLETE'),
      30_000,
    );

    const outputKey = p2tr(keyAggExport(keyAggregate(sortKeys(keys)))).tweakedPubkey;
    const signatures = coordinators.map((c) => c.list().find((s) => s.sessionId === id)!.signatures);
    expect(new Set(signatures.map((s) => s.join()))).toEqual(new Set([signatures[0]!.join()]));
    // A BIP322 signature of the group's address, which bip322-js verifies on every node.
    for (const c of coordinators)
      expect(
        verifiesAsBip322(
          c.list().find((s) => s.sessionId === id)!,
          outputKey,
        ),
      ).toBe(true);
    for (const c of coordinators) expect(Object.keys(c.health().rejectedMessages)).toEqual([]);

    await coordinators[1]!.cleanup();
    const again = await startCoordinator(nodes[1]!, await FileRecordStore.open(join(root, 'n1')), { knownGroup: knownGroups([keys]) });
    cleanups.push(() => again.cleanup());
    expect((await again.get(id))?.signatures).toEqual(signatures[1]);
  });
});
