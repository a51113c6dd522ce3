/**
 * Requests that name a group's spending path (docs/PROTOCOL.md §Group path), on real coordinators
 * over the in-process network. A 2-of-3 group signs a message by each pair over its leaf and by all
 * three over the key path, each BIP322 signature checked by code that is not ours; and every node
 * recomputes the path from its own book, so a creator cannot choose who signs or for which address.
 */
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import type { BitcoinNetwork, Group } from '../../../preload/contract.ts';
import { SessionSnapshot as SnapshotSchema } from '../../../preload/contract.ts';
import { requestPath } from '../../../main/handlers/session-path.ts';
import { signAnnouncement } from '../../../main/session/announcement.ts';
import type { AnnouncementBody, Payload } from '../../../main/session/codec.ts';
import { GroupKeysCache } from '../../../main/session/psbt-session.ts';
import { spendFrom } from '../../support/psbt-fixtures.ts';
import type { SavedGroup } from '../../../main/session/ports.ts';
import { describePolicyGroup } from '../../../main/wallet/policy-group.ts';
import type { SpendPath } from '../../../main/wallet/spend-path.ts';
import { verifiesAsBip322 } from '../../support/bip322-check.ts';
import { leafSignatureProblem, twoOfThree } from '../../support/bip322-leaf-check.ts';
import { groupsById } from '../../support/known-groups.ts';
import { Cluster } from '../../support/session-cluster.ts';
import { messageOf, sentFrames } from '../../support/session-forge.ts';

const sessionIdOfFrame = (frame: Uint8Array) => bytesToHex(messageOf(frame).sessionId);

type GroupPolicy = NonNullable<Group['policy']>;
const NETWORK: BitcoinNetwork = 'mainnet';
const TWO_OF_THREE: GroupPolicy = { kind: 'k-of-n', k: 2 };
const MESSAGE = 'We, two of three, agree.';

/** A cluster of three whose nodes saved the groups `saved(index)` gives (default: the 2-of-3 of all three). */
function cluster(seed: string, saved?: (keys: string[], index: number) => SavedGroup[]) {
  const keys = [0, 1, 2].map((i) => new Cluster(3, { seed }).nodes[i]!.signer.hex);
  const mine = saved ?? ((k: string[]) => [{ publicKeys: k, policy: TWO_OF_THREE }]);
  const c = new Cluster(3, { seed, groupById: (index) => groupsById(mine(keys, index)) });
  return { c, keys };
}

function groupOf(keys: string[], policy: GroupPolicy = TWO_OF_THREE): Group {
  return describePolicyGroup('friends', keys, NETWORK, policy);
}

const indexOf = (c: Cluster, key: string) => c.nodes.findIndex((n) => n.signer.hex === key);

/** Asks for MESSAGE over `path` from `creator`, every other signer of the path approves; the finished snapshot. */
async function signOver(c: Cluster, group: Group, path: SpendPath, creator: number) {
  const chosen = requestPath(group, path.kind === 'key' ? path : { kind: 'leaf', leaf: path.leaf });
  const created = await c.nodes[creator]!.coordinator.createSession({
    ...chosen,
    payload: { kind: 'message', message: bytesToHex(utf8ToBytes(MESSAGE)), label: MESSAGE },
  });
  const asked = chosen.signers.map((key) => indexOf(c, key));
  await c.runUntil(() => asked.every((i) => i === creator || c.nodes[i]!.requests.some((r) => r.sessionId === created.sessionId)));
  // Nonces flow only once every named signer approved: none yet, though every signer holds the request.
  expect(sentFrames(c.net, { type: 'nonces' }).filter((f) => sessionIdOfFrame(f.frame) === created.sessionId)).toEqual([]);
  for (const i of asked) if (i !== creator) await c.nodes[i]!.coordinator.approve(created.sessionId);
  await c.runUntil(() => asked.every((i) => c.snapshot(i, created.sessionId)?.phase === 'COMPLETE'));
  const nonces = sentFrames(c.net, { type: 'nonces' }).filter((f) => sessionIdOfFrame(f.frame) === created.sessionId);
  expect(new Set(nonces.map((f) => f.from)).size).toBe(asked.length);
  return { created, asked };
}

describe('a 2-of-3 group signs a message over each of its paths', () => {
  it.each([0, 1, 2])('the pair of leaf %i signs alone; the third member is not asked and is listed as not needed', async (leaf) => {
    const { c, keys } = cluster(`path-leaf-${leaf}`);
    await c.start();
    const group = groupOf(keys);
    const independent = twoOfThree(keys.map((k) => hexToBytes(k)));
    const pair = independent.pairs[leaf]!.map((k) => bytesToHex(k));
    const creator = indexOf(c, pair[1]!);
    const { created, asked } = await signOver(c, group, { kind: 'leaf', leaf }, creator);
    expect(asked.sort()).toEqual(pair.map((k) => indexOf(c, k)).sort());
    const third = [0, 1, 2].find((i) => !asked.includes(i))!;
    expect(c.nodes[third]!.requests).toEqual([]);
    expect(c.snapshot(third, created.sessionId)).toBeUndefined();
    for (const i of asked) {
      const s = SnapshotSchema.parse(c.snapshot(i, created.sessionId));
      expect(s.phase).toBe('COMPLETE');
      expect(s.tweak).toBe('path');
      expect(s.spendPath).toMatchObject({ groupId: group.id, kind: 'leaf', leaf, leafKind: 'subset', notNeeded: [keys[third]] });
      // The address is the group's own (its output key commits to the tree), as bitcoinjs-lib computes it.
      expect(s.bip322!.address).toBe(independent.address);
      expect(s.bip322!.address).toBe(group.address);
      expect(
        leafSignatureProblem(
          keys.map((k) => hexToBytes(k)),
          leaf,
          utf8ToBytes(MESSAGE),
          s.bip322!.signatures[0]!,
          s.signatures[0]!,
        ),
      ).toBe(undefined);
    }
  });

  it('all three sign over the key path: bip322-js verifies the signature for the group’s address', async () => {
    const { c, keys } = cluster('path-key');
    await c.start();
    const group = groupOf(keys);
    const { created, asked } = await signOver(c, group, { kind: 'key' }, 0);
    expect(asked.sort()).toEqual([0, 1, 2]);
    const independent = twoOfThree(keys.map((k) => hexToBytes(k)));
    for (const i of asked) {
      const s = SnapshotSchema.parse(c.snapshot(i, created.sessionId));
      expect(s.spendPath).toMatchObject({ kind: 'key', leaf: null, notNeeded: [] });
      expect(s.bip322!.address).toBe(independent.address);
      expect(verifiesAsBip322(s, independent.outputKey)).toBe(true);
    }
  });

  it('a batch over a leaf: every message gets its own script-path signature', async () => {
    const { c, keys } = cluster('path-batch');
    await c.start();
    const group = groupOf(keys);
    const chosen = requestPath(group, { kind: 'leaf', leaf: 2 });
    const [creator, other] = chosen.signers.map((k) => indexOf(c, k)) as [number, number];
    const texts = ['first of two', 'second of two'];
    const created = await c.nodes[creator]!.coordinator.createSession({
      ...chosen,
      payload: { kind: 'batch', items: texts.map((t) => ({ message: bytesToHex(utf8ToBytes(t)), label: t })) },
    });
    await c.runUntil(() => c.nodes[other]!.requests.some((r) => r.sessionId === created.sessionId));
    await c.nodes[other]!.coordinator.approve(created.sessionId);
    await c.runUntil(() => c.snapshot(creator, created.sessionId)?.phase === 'COMPLETE');
    const s = c.snapshot(creator, created.sessionId)!;
    const members = keys.map((k) => hexToBytes(k));
    texts.forEach((t, i) =>
      expect(leafSignatureProblem(members, 2, utf8ToBytes(t), s.bip322!.signatures[i]!, s.signatures[i]!)).toBeUndefined(),
    );
    // Each signature is bound to its own message.
    expect(leafSignatureProblem(members, 2, utf8ToBytes(texts[0]!), s.bip322!.signatures[1]!, s.signatures[1]!)).toBeDefined();
  });

  it('a signature over a leaf is not accepted for another leaf, nor by the key path', async () => {
    const { c, keys } = cluster('path-cross');
    await c.start();
    const independent = twoOfThree(keys.map((k) => hexToBytes(k)));
    const creator = indexOf(c, bytesToHex(independent.pairs[0]![0]!));
    const { created } = await signOver(c, groupOf(keys), { kind: 'leaf', leaf: 0 }, creator);
    const s = c.snapshot(creator, created.sessionId)!;
    const members = keys.map((k) => hexToBytes(k));
    expect(leafSignatureProblem(members, 1, utf8ToBytes(MESSAGE), s.bip322!.signatures[0]!, s.signatures[0]!)).toBeDefined();
    expect(
      verifiesAsBip322(
        { ...s, bip322: { signatures: [Buffer.from([1, 64, ...hexToBytes(s.signatures[0]!)]).toString('base64')] } },
        independent.outputKey,
      ),
    ).toBe(false);
  });
});

/** A request the attacker (node `creator`) signs and sends itself, bypassing its own coordinator's checks. */
function forged(
  c: Cluster,
  creator: number,
  group: { id: string; path: SpendPath },
  signers: string[],
  payload: Payload = { kind: 'message', message: utf8ToBytes(MESSAGE), label: MESSAGE },
): { frame: Uint8Array; id: string } {
  const body: AnnouncementBody = {
    signers: signers.map((k) => hexToBytes(k)),
    creatorIndex: signers.indexOf(c.nodes[creator]!.signer.hex),
    tweak: 'path',
    group: { id: hexToBytes(group.id), path: group.path },
    createdAt: c.time.now(),
    expiresAt: c.time.now() + 600_000,
    salt: new Uint8Array(32).fill(7),
    display: 'please sign',
    payload,
  };
  const a = signAnnouncement(body, c.nodes[creator]!.signer.secretKey(), new Uint8Array(32));
  return { frame: a.frame, id: a.idHex };
}

async function deliver(c: Cluster, creator: number, to: number, frame: { frame: Uint8Array; id: string }): Promise<void> {
  const meta = { kind: 'announcement' as const, sessionId: frame.id, expiresAt: c.time.now() + 600_000 };
  await c.nodes[creator]!.transport.send(c.nodes[to]!.signer.publicKey, frame.frame, meta).catch(() => undefined);
  await c.runUntil(() => false, 5_000);
}

/** Whether node `i` refused the request with `code`, stored nothing and showed nothing. */
function refused(c: Cluster, i: number, id: string, code: string): { declined: boolean } {
  const node = c.nodes[i]!;
  expect(node.requests.find((r) => r.sessionId === id)).toBeUndefined();
  expect(c.snapshot(i, id)).toBeUndefined();
  const health = node.coordinator.health();
  expect(health.rejectedMessages[code]).toBeGreaterThanOrEqual(1);
  const declined = sentFrames(c.net, { from: node.peerId, type: 'decline' }).length > 0;
  expect(health.refusedRequests.some((r) => r.sessionId === id && r.code === code)).toBe(declined);
  return { declined };
}

describe('every node recomputes the path it is asked to sign by', () => {
  it('attack: a stranger naming a saved group and listing itself with a member gets nothing back, and no record', async () => {
    const seed = 'attack-stranger-path';
    const keys = [0, 1, 2, 3].map((i) => new Cluster(4, { seed }).nodes[i]!.signer.hex);
    const members = keys.slice(0, 3);
    // Nodes 0..2 saved the 2-of-3 of their keys; node 3 knows its id (keys are public, k = 2 a guess).
    const c = new Cluster(4, { seed, groupById: (i) => groupsById(i < 3 ? [{ publicKeys: members, policy: TWO_OF_THREE }] : []) });
    await c.start();
    const group = groupOf(members);
    const victim = indexOf(c, requestPath(group, { kind: 'leaf', leaf: 0 }).signers[0]!);
    const frame = forged(c, 3, { id: group.id, path: { kind: 'leaf', leaf: 0 } }, [keys[victim]!, keys[3]!]);
    await deliver(c, 3, victim, frame);
    expect(refused(c, victim, frame.id, 'UNKNOWN_GROUP')).toEqual({ declined: false });
    expect(c.nodes[victim]!.coordinator.health().refusedRequests).toEqual([]);
  });

  it('a creator naming a leaf but listing a member who is not on it is refused by that member, with a reason', async () => {
    const { c, keys } = cluster('attack-wrong-signer');
    await c.start();
    const pair0 = twoOfThree(keys.map((k) => hexToBytes(k))).pairs[0]!.map((k) => bytesToHex(k));
    const [a, b] = pair0;
    const other = keys.find((k) => !pair0.includes(k));
    const attacker = indexOf(c, a!);
    // Leaf 0 is {a, b}; the request lists {a, other}: `other` would sign a share for a key it is not part of.
    const frame = forged(c, attacker, { id: groupOf(keys).id, path: { kind: 'leaf', leaf: 0 } }, [a!, other!]);
    await deliver(c, attacker, indexOf(c, other!), frame);
    expect(refused(c, indexOf(c, other!), frame.id, 'WRONG_PATH')).toEqual({ declined: true });
    // Listing all three for the leaf of two is refused as well, by the leaf's own member.
    const three = forged(c, attacker, { id: groupOf(keys).id, path: { kind: 'leaf', leaf: 0 } }, [a!, b!, other!]);
    await deliver(c, attacker, indexOf(c, b!), three);
    expect(refused(c, indexOf(c, b!), three.id, 'WRONG_PATH')).toEqual({ declined: true });
  });

  it('a request over a leaf of the same keys under another policy than the one saved is refused as an unknown group', async () => {
    const recoveryPolicy = (keys: string[]): GroupPolicy => ({
      kind: 'k-of-n',
      k: 2,
      recovery: { keys: [keys[2]!, keys[1]!], olderBlocks: 144 },
    });
    // Leaf 0 is the pair of the two lowest keys; the first of them saved the group with a recovery
    // path, the others saved the 2-of-3 alone: the same keys, another tree, another address.
    const lowest = (keys: string[]) => [...keys].sort()[0];
    const { c, keys } = cluster('attack-other-policy', (k, index) => [
      { publicKeys: k, policy: k[index] === lowest(k) ? recoveryPolicy(k) : TWO_OF_THREE },
    ]);
    await c.start();
    const creatorGroup = groupOf(keys, recoveryPolicy(keys));
    const leaf0 = requestPath(creatorGroup, { kind: 'leaf', leaf: 0 });
    const attacker = indexOf(c, lowest(keys)!);
    const target = indexOf(
      c,
      leaf0.signers.find((k) => k !== lowest(keys))!,
    );
    const frame = forged(c, attacker, { id: creatorGroup.id, path: { kind: 'leaf', leaf: 0 } }, [...leaf0.signers]);
    await deliver(c, attacker, target, frame);
    expect(refused(c, target, frame.id, 'UNKNOWN_GROUP')).toEqual({ declined: false });
  });

  it('a request naming the 3-of-3 key path of keys saved only as a 2-of-3 is refused as an unknown group', async () => {
    const { c, keys } = cluster('attack-3-of-3');
    await c.start();
    const threeOfThree = groupOf(keys, { kind: 'n-of-n' });
    const frame = forged(c, 0, { id: threeOfThree.id, path: { kind: 'key' } }, keys);
    await deliver(c, 0, 1, frame);
    expect(refused(c, 1, frame.id, 'UNKNOWN_GROUP')).toEqual({ declined: false });
  });

  it('a leaf the group does not have, and a single-key recovery leaf, are refused with a reason', async () => {
    const single = (keys: string[]): GroupPolicy => ({ kind: 'k-of-n', k: 2, recovery: { keys: [keys[0]!], olderBlocks: 144 } });
    const { c, keys } = cluster('attack-leaf', (k) => [{ publicKeys: k, policy: single(k) }]);
    await c.start();
    const group = groupOf(keys, single(keys));
    const missing = forged(c, 0, { id: group.id, path: { kind: 'leaf', leaf: 9 } }, [keys[0]!, keys[1]!]);
    await deliver(c, 0, 1, missing);
    expect(refused(c, 1, missing.id, 'WRONG_PATH').declined).toBe(true);
    // Leaf 3 is the recovery key alone: MuSig2 of one key with a helper is not that key's signature.
    const recovery = forged(c, 0, { id: group.id, path: { kind: 'leaf', leaf: 3 } }, [keys[0]!, keys[2]!]);
    await deliver(c, 0, 2, recovery);
    expect(refused(c, 2, recovery.id, 'WRONG_PATH').declined).toBe(true);
  });

  it('a message over a MuSig2 recovery leaf is refused: its timelock can never pass in a BIP322 proof', async () => {
    const pair = (keys: string[]): GroupPolicy => ({ kind: 'k-of-n', k: 2, recovery: { keys: [keys[0]!, keys[2]!], olderBlocks: 144 } });
    const { c, keys } = cluster('attack-recovery-message', (k) => [{ publicKeys: k, policy: pair(k) }]);
    await c.start();
    const group = groupOf(keys, pair(keys));
    const frame = forged(c, 0, { id: group.id, path: { kind: 'leaf', leaf: 3 } }, [keys[0]!, keys[2]!]);
    await deliver(c, 0, 2, frame);
    expect(refused(c, 2, frame.id, 'WRONG_PATH').declined).toBe(true);
    // The creator's own node refuses to send it in the first place.
    await expect(
      c.nodes[0]!.coordinator.createSession({
        signers: [keys[0]!, keys[2]!],
        tweak: 'path',
        group: { id: group.id, path: { kind: 'leaf', leaf: 3 } },
        payload: { kind: 'message', message: '00' },
      }),
    ).rejects.toMatchObject({ code: 'WRONG_PATH' });
  });

  it('the creator’s own node refuses signers that are not the path’s before sending anything', async () => {
    const { c, keys } = cluster('creator-check');
    await c.start();
    const before = c.net.log.length;
    await expect(
      c.nodes[0]!.coordinator.createSession({
        signers: keys,
        tweak: 'path',
        group: { id: groupOf(keys).id, path: { kind: 'leaf', leaf: 0 } },
        payload: { kind: 'message', message: '00' },
      }),
    ).rejects.toMatchObject({ code: 'WRONG_PATH' });
    expect(c.net.log.length).toBe(before);
  });

  it("a PSBT over a leaf that spends the n-of-n output of the leaf's signers (not the group's) is refused, by the creator and by a receiver", async () => {
    const { c, keys } = cluster('psbt-leaf');
    await c.start();
    const group = groupOf(keys);
    const leaf0 = requestPath(group, { kind: 'leaf', leaf: 0 });
    const creator = indexOf(c, leaf0.signers[0]!);
    // The n-of-n key-path output of the leaf's two signers: a key set no one saved as a group.
    const pairKeys = new GroupKeysCache().of(leaf0.signers.map((k) => hexToBytes(k)));
    const psbt = spendFrom(
      pairKeys,
      [{ path: [], amount: 50_000n }],
      [{ outputKey: new Uint8Array(32).fill(2), amount: 49_000n }],
      'leaf',
    ).toPSBT();
    const payload = { kind: 'psbt' as const, psbt: bytesToHex(psbt), network: 'regtest' as const };
    await expect(c.nodes[creator]!.coordinator.createSession({ ...leaf0, payload })).rejects.toMatchObject({ code: 'PSBT_REFUSED' });
    const frame = forged(c, creator, { id: group.id, path: { kind: 'leaf', leaf: 0 } }, [...leaf0.signers], {
      kind: 'psbt',
      network: 'regtest',
      allowNonDefaultSighash: false,
      psbt,
    });
    const target = indexOf(c, leaf0.signers[1]!);
    await deliver(c, creator, target, frame);
    expect(refused(c, target, frame.id, 'PSBT_REFUSED').declined).toBe(true);
  });
});
