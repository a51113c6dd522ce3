/**
 * A 2-of-3 group between real nodes (libp2p on 127.0.0.1, TCP, Noise, signer cards, records on real
 * files, real time): a message signed by each pair over its leaf and by all three over the key path,
 * each BIP322 signature checked by code that is not ours (bip322-leaf-check.ts, bip322-check.ts).
 * The same for a PSBT of three inputs, each checked by bitcoinjs-lib with tiny-secp256k1.
 * A path's signature survives a restart of a signer, which recomputes the path from its book.
 */
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requestPath } from '../../../main/handlers/session-path.ts';
import type { SessionCoordinator } from '../../../main/session/coordinator.ts';
import { FileRecordStore } from '../../../main/storage/record-store.ts';
import { describePolicyGroup, groupOutputs } from '../../../main/wallet/policy-group.ts';
import { SpendKeys } from '../../../main/wallet/spend-keys.ts';
import { KEY_PATH, type SpendPath } from '../../../main/wallet/spend-path.ts';
import type { SpendPathInput } from '../../../preload/contract.ts';
import { waitFor } from '../../integration/p2p/harness.ts';
import { verifiesAsBip322 } from '../../support/bip322-check.ts';
import { leafSignatureProblem, twoOfThree } from '../../support/bip322-leaf-check.ts';
import { groupsById, knownGroups } from '../../support/known-groups.ts';
import { startCoordinator, startRealCluster } from '../../support/real-cluster.ts';
import { SPEND, thresholdSpend, verifyThresholdSpend } from '../../support/threshold-psbt.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const MESSAGE = 'Two of us, or all three, sign this.';

describe('a 2-of-3 group between real nodes', () => {
  it('signs by each pair over its leaf and by all three over the key path, every signature verified independently', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cosigner-e2e-path-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    let saved: ReturnType<typeof groupsById> = () => undefined;
    const cluster = await startRealCluster(
      ['path-alice', 'path-bob', 'path-carol'],
      (i) => FileRecordStore.open(join(root, `n${i}`)),
      () => ({ groupById: (id) => saved(id) }),
    );
    cleanups.push(() => cluster.stop());
    const { nodes, keys, coordinators } = cluster;
    const members = keys.map((k) => bytesToHex(k));
    const policy = { kind: 'k-of-n' as const, k: 2 };
    saved = groupsById([{ publicKeys: members, policy }]);
    const group = describePolicyGroup('real', members, 'mainnet', policy);
    const independent = twoOfThree(keys);
    expect(group.address).toBe(independent.address);

    const sign = async (path: SpendPathInput, creator: number) => {
      const chosen = requestPath(group, path);
      const created = await coordinators[creator]!.createSession({
        ...chosen,
        payload: { kind: 'message', message: bytesToHex(utf8ToBytes(MESSAGE)), label: MESSAGE },
        description: JSON.stringify(path),
      });
      const asked = chosen.signers.map((k) => members.indexOf(k));
      for (const i of asked.filter((i) => i !== creator)) {
        await waitFor('the request', () => coordinators[i]!.list().some((s) => s.sessionId === created.sessionId));
        await coordinators[i]!.approve(created.sessionId);
      }
      const done = (c: SessionCoordinator) => c.list().find((s) => s.sessionId === created.sessionId)?.phase === 'COMPLETE';
      await waitFor('COMPLETE on every signer', () => asked.every((i) => done(coordinators[i]!)), 30_000);
      return { id: created.sessionId, asked };
    };

    const leafSessions: { id: string; leaf: number; signer: number }[] = [];
    for (const leaf of [0, 1, 2]) {
      // The creator is the pair's second member, named by its keys, as the UI names a leaf.
      const pair = independent.pairs[leaf]!.map((k) => bytesToHex(k));
      const { id, asked } = await sign({ kind: 'leaf', signers: pair }, members.indexOf(pair[1]!));
      const third = [0, 1, 2].find((i) => !asked.includes(i))!;
      expect(coordinators[third]!.list().some((s) => s.sessionId === id)).toBe(false);
      for (const i of asked) {
        const s = coordinators[i]!.list().find((x) => x.sessionId === id)!;
        expect(s.spendPath).toMatchObject({ kind: 'leaf', leaf, notNeeded: [members[third]] });
        expect(s.bip322!.address).toBe(independent.address);
        expect(leafSignatureProblem(keys, leaf, utf8ToBytes(MESSAGE), s.bip322!.signatures[0]!, s.signatures[0]!)).toBeUndefined();
      }
      leafSessions.push({ id, leaf, signer: asked[0]! });
    }
    const key = await sign({ kind: 'key' }, 0);
    for (const c of coordinators) {
      const s = c.list().find((x) => x.sessionId === key.id)!;
      expect(s.spendPath).toMatchObject({ kind: 'key', notNeeded: [] });
      expect(verifiesAsBip322(s, independent.outputKey)).toBe(true);
    }
    for (const c of coordinators) expect(Object.keys(c.health().rejectedMessages)).toEqual([]);

    // A signer restarts: its history of a leaf session is read again, the path recomputed from its book.
    const { id, leaf, signer } = leafSessions[0]!;
    const before = coordinators[signer]!.list().find((s) => s.sessionId === id)!;
    await coordinators[signer]!.cleanup();
    const again = await startCoordinator(nodes[signer]!, await FileRecordStore.open(join(root, `n${signer}`)), {
      knownGroup: knownGroups([keys]),
      groupById: saved,
    });
    cleanups.push(() => again.cleanup());
    const after = await again.get(id);
    expect(after?.bip322?.signatures).toEqual(before.bip322!.signatures);
    expect(after?.spendPath).toEqual(before.spendPath);
    expect(leafSignatureProblem(keys, leaf, utf8ToBytes(MESSAGE), after!.bip322!.signatures[0]!, after!.signatures[0]!)).toBeUndefined();
    expect(hexToBytes(after!.signatures[0]!)).toHaveLength(64);
  });

  it('co-signs a PSBT by each pair over its leaf and by all three over the key path, every input verified by bitcoinjs-lib', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cosigner-e2e-path-psbt-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    let saved: ReturnType<typeof groupsById> = () => undefined;
    const cluster = await startRealCluster(
      ['psbt-path-alice', 'psbt-path-bob', 'psbt-path-carol'],
      (i) => FileRecordStore.open(join(root, `n${i}`)),
      () => ({ groupById: (id) => saved(id), options: { bitcoinNetwork: 'regtest' } }),
    );
    cleanups.push(() => cluster.stop());
    const { keys, coordinators } = cluster;
    const members = keys.map((k) => bytesToHex(k));
    // A recovery key, so that the tree is the four-leaf shape the independent check builds.
    const policy = { kind: 'k-of-n' as const, k: 2, recovery: { keys: [members[0]!], olderBlocks: 144 } };
    saved = groupsById([{ publicKeys: members, policy }]);
    const group = describePolicyGroup('real', members, 'regtest', policy);
    const spend = new SpendKeys(groupOutputs(group), 'regtest');

    for (const path of [{ kind: 'leaf', leaf: 0 }, { kind: 'leaf', leaf: 1 }, { kind: 'leaf', leaf: 2 }, KEY_PATH] as SpendPath[]) {
      const chosen = requestPath(group, path);
      const asked = chosen.signers.map((k) => members.indexOf(k));
      const creator = asked[asked.length - 1]!;
      const created = await coordinators[creator]!.createSession({
        ...chosen,
        payload: { kind: 'psbt', psbt: bytesToHex(thresholdSpend(spend, path).toPSBT(0)), network: 'regtest' },
        description: JSON.stringify(path),
      });
      for (const i of asked.filter((i) => i !== creator)) {
        await waitFor('the request', () => coordinators[i]!.list().some((s) => s.sessionId === created.sessionId));
        await coordinators[i]!.approve(created.sessionId);
      }
      const done = (c: SessionCoordinator) => c.list().find((s) => s.sessionId === created.sessionId)?.phase === 'COMPLETE';
      await waitFor('COMPLETE on every signer', () => asked.every((i) => done(coordinators[i]!)), 30_000);
      const raw = asked.map((i) => coordinators[i]!.list().find((s) => s.sessionId === created.sessionId)!.psbt!.transaction!.rawTxHex);
      expect(new Set(raw).size).toBe(1);
      expect(verifyThresholdSpend(raw[0]!, spend, SPEND.derivations, SPEND.amounts)).toEqual([true, true, true]);
      const notAsked = [0, 1, 2].filter((i) => !asked.includes(i));
      for (const i of notAsked) expect(coordinators[i]!.list().some((s) => s.sessionId === created.sessionId)).toBe(false);
    }
    for (const c of coordinators) expect(Object.keys(c.health().rejectedMessages)).toEqual([]);
  });
});
