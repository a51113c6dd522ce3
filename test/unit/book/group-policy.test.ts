/**
 * Groups with a policy in the group book: the id covers the policy (a 2-of-3 and a 3-of-3 of the same
 * keys are two groups), while an n-of-n group keeps the id it had before policies existed, computed
 * here from its definition (BIP340 tagged hash of the sorted keys), and is stored as before.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as bitcoin from 'bitcoinjs-lib';
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GroupBook } from '../../../main/book/group-book.ts';
import { FileRecordStore } from '../../../main/storage/record-store.ts';
import { addressOf } from '../../support/descriptor-reader.ts';
import { groupWallet } from '../../../main/group-wallet.ts';

const key = (i: number) => bytesToHex(secp256k1.getPublicKey(secp256k1.Point.Fn.toBytes(BigInt(i))));
const [K1, K2, K3] = [key(3), key(5), key(7)] as [string, string, string];
const RECOVERY = key(9);

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function store(): Promise<FileRecordStore> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cosigner-group-policy-'));
  dirs.push(dir);
  return FileRecordStore.open(dir);
}

/** The id of every group before policies: BIP340 tagged hash "Cosigner/group" of the sorted keys. */
function oldId(keys: string[]): string {
  const tag = sha256(utf8ToBytes('Cosigner/group'));
  const sorted = keys.map((k) => hexToBytes(k)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return bytesToHex(sha256(concatBytes(tag, tag, ...sorted)));
}

describe('groups with a policy', () => {
  it('a group stored before policies keeps its id and address, reads as n-of-n, and is written back as before', async () => {
    const s = await store();
    await s.put('groups', [{ name: 'Old', publicKeys: [K2, K1, K3].sort() }]);
    const book = await GroupBook.open(s, 'regtest');
    const [old] = book.list();
    expect(old!.id).toBe(oldId([K1, K2, K3]));
    expect(old!.policy).toEqual({ kind: 'n-of-n' });
    // n-of-n, saved with the policy spelled out or left out: the same group, stored without a policy.
    expect((await book.save({ name: 'Renamed', publicKeys: [K3, K2, K1], policy: { kind: 'n-of-n' } })).id).toBe(old!.id);
    expect(book.list()).toHaveLength(1);
    expect(await s.get('groups')).toEqual([{ name: 'Renamed', publicKeys: old!.publicKeys }]);
  });

  it('a 2-of-3, the 3-of-3 and a 2-of-3 with a recovery key of the same keys are three groups, each reopened with its policy', async () => {
    const s = await store();
    const book = await GroupBook.open(s, 'regtest');
    const all = await book.save({ name: 'All', publicKeys: [K1, K2, K3] });
    const two = await book.save({ name: 'Two', publicKeys: [K1, K2, K3], policy: { kind: 'k-of-n', k: 2 } });
    const rec = await book.save({
      name: 'Rec',
      publicKeys: [K1, K2, K3],
      policy: { kind: 'k-of-n', k: 2, recovery: { keys: [RECOVERY], olderBlocks: 4320 } },
    });
    const recLater = await book.save({
      name: 'Rec2',
      publicKeys: [K1, K2, K3],
      policy: { kind: 'k-of-n', k: 2, recovery: { keys: [RECOVERY], olderBlocks: 4321 } },
    });
    expect(all.id).toBe(oldId([K1, K2, K3]));
    expect(new Set([all.id, two.id, rec.id, recLater.id]).size).toBe(4);
    expect(new Set([all.address, two.address, rec.address, recLater.address]).size).toBe(4);
    // The same keys and policy in another order: the same group, renamed.
    expect((await book.save({ name: 'Two again', publicKeys: [K3, K1, K2], policy: { kind: 'k-of-n', k: 2 } })).id).toBe(two.id);

    const reopened = await GroupBook.open(s, 'regtest');
    expect(reopened.get(two.id)).toMatchObject({ name: 'Two again', policy: { kind: 'k-of-n', k: 2 }, address: two.address });
    expect(reopened.get(rec.id).policy).toEqual({ kind: 'k-of-n', k: 2, recovery: { keys: [RECOVERY], olderBlocks: 4320 } });
    expect(reopened.knows([K2, K1, K3].map((k) => hexToBytes(k)))).toBe(true);
  });

  it('attack: a request naming no group path, for keys saved only as a 2-of-3, is not taken (it would sign for the 3-of-3 address)', async () => {
    const book = await GroupBook.open(await store(), 'regtest');
    const keys = [K1, K2, K3].map((k) => hexToBytes(k));
    await book.save({ name: 'Two', publicKeys: [K1, K2, K3], policy: { kind: 'k-of-n', k: 2 } });
    await book.save({ name: 'Rec', publicKeys: [K1, K2, K3], policy: { kind: 'n-of-n', recovery: { keys: [RECOVERY], olderBlocks: 10 } } });
    expect(book.knows(keys)).toBe(false);
    await book.save({ name: 'All', publicKeys: [K1, K2, K3] });
    expect(book.knows(keys)).toBe(true);
  });

  it('the address and groups.wallet of a 2-of-3 are what other code reads from its descriptors (bitcoinjs-lib p2tr)', async () => {
    const book = await GroupBook.open(await store(), 'regtest');
    const group = await book.save({
      name: 'Two',
      publicKeys: [K1, K2, K3],
      policy: { kind: 'k-of-n', k: 2, recovery: { keys: [RECOVERY], olderBlocks: 144 } },
    });
    const wallet = groupWallet(group);
    expect(group.address).not.toBe((await book.save({ name: 'All', publicKeys: [K1, K2, K3] })).address);
    expect(wallet.descriptors.receive.match(/pk\(musig\(/g)).toHaveLength(3);
    expect(addressOf(wallet.descriptors.keyPath, 0, 'regtest')).toBe(group.address);
    wallet.receiveAddresses.forEach((address, i) => expect(addressOf(wallet.descriptors.receive, i, 'regtest')).toBe(address));
    expect(bytesToHex(bitcoin.address.toOutputScript(group.address, bitcoin.networks.regtest))).toBe(`5120${group.outputKey}`);
  });

  it('refuses a policy that does not fit, with its code, and stores nothing', async () => {
    const s = await store();
    const book = await GroupBook.open(s, 'regtest');
    await expect(book.save({ name: 'x', publicKeys: [K1, K2], policy: { kind: 'k-of-n', k: 2 } })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(book.save({ name: 'x', publicKeys: [K1, K2, K3], policy: { kind: 'k-of-n', k: 3 } })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    const offCurve = `02${'00'.repeat(31)}05`;
    await expect(
      book.save({ name: 'x', publicKeys: [K1, K2, K3], policy: { kind: 'n-of-n', recovery: { keys: [offCurve], olderBlocks: 10 } } }),
    ).rejects.toMatchObject({
      code: 'INVALID_PUBLIC_KEY',
    });
    expect(book.list()).toEqual([]);
    expect(await s.get('groups')).toBeUndefined();
  });
});
