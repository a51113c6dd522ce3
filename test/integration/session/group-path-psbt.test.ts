/**
 * A 2-of-3 group with a recovery key co-signs one PSBT (three inputs at distinct BIP328 derivations)
 * on real coordinators over the in-process network: each pair over its own leaf, the third member
 * never asked, and all three over the key path. Every node plans the PSBT along the path the request
 * names, from the group in its own book; bitcoinjs-lib with tiny-secp256k1 checks every input of the
 * finished transaction (BIP341/BIP342 sighash with the leaf hash, control block, key in the script).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import type { Group } from '../../../preload/contract.ts';
import { requestPath } from '../../../main/handlers/session-path.ts';
import { groupOutputs, describePolicyGroup } from '../../../main/wallet/policy-group.ts';
import { SpendKeys } from '../../../main/wallet/spend-keys.ts';
import { KEY_PATH, type SpendPath } from '../../../main/wallet/spend-path.ts';
import { groupsById } from '../../support/known-groups.ts';
import { Cluster } from '../../support/session-cluster.ts';
import { SPEND, thresholdSpend, verifyThresholdSpend } from '../../support/threshold-psbt.ts';

const RECOVERY = bytesToHex(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true));
const POLICY: NonNullable<Group['policy']> = { kind: 'k-of-n', k: 2, recovery: { keys: [RECOVERY], olderBlocks: 144 } };

const PATHS: [string, SpendPath][] = [
  ['the key path (all three)', KEY_PATH],
  ['leaf 0 (a pair)', { kind: 'leaf', leaf: 0 }],
  ['leaf 1 (a pair)', { kind: 'leaf', leaf: 1 }],
  ['leaf 2 (a pair)', { kind: 'leaf', leaf: 2 }],
];

describe('a 2-of-3 group co-signs a PSBT over each of its paths', () => {
  it.each(PATHS)('%s: every signer plans it from its own book; bitcoinjs-lib accepts every input', async (name, path) => {
    const seed = `group-path-psbt/${name}`;
    const keys = [0, 1, 2].map((i) => new Cluster(3, { seed }).nodes[i]!.signer.hex);
    const c = new Cluster(3, { seed, groupById: () => groupsById([{ publicKeys: keys, policy: POLICY }]) });
    await c.start();
    const group = describePolicyGroup('friends', keys, 'regtest', POLICY);
    const spend = new SpendKeys(groupOutputs(group), 'regtest');
    const psbt = thresholdSpend(spend, path).toPSBT(0);
    const chosen = requestPath(group, path);
    const asked = chosen.signers.map((key) => c.nodes.findIndex((n) => n.signer.hex === key));
    const creator = asked[0]!;
    const created = await c.nodes[creator]!.coordinator.createSession({
      ...chosen,
      payload: { kind: 'psbt', psbt: bytesToHex(psbt), network: 'regtest' },
    });
    await c.runUntil(() => asked.every((i) => i === creator || c.nodes[i]!.requests.some((r) => r.sessionId === created.sessionId)));
    for (const i of asked) if (i !== creator) await c.nodes[i]!.coordinator.approve(created.sessionId);
    await c.runUntil(() => asked.every((i) => c.snapshot(i, created.sessionId)?.phase === 'COMPLETE'));

    const raw = asked.map((i) => c.snapshot(i, created.sessionId)!.psbt!.transaction!.rawTxHex);
    expect(new Set(raw).size).toBe(1);
    expect(verifyThresholdSpend(raw[0]!, spend, SPEND.derivations, SPEND.amounts)).toEqual([true, true, true]);
    const third = [0, 1, 2].filter((i) => !asked.includes(i));
    expect(third).toHaveLength(path.kind === 'key' ? 0 : 1);
    for (const i of third) expect(c.snapshot(i, created.sessionId)).toBeUndefined();
    expect(c.snapshot(creator, created.sessionId)!.spendPath).toMatchObject({ groupId: group.id, kind: path.kind });
  });
});
