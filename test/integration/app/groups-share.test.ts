/**
 * groups.export, groups.preview and groups.import through the app's own handlers and the contract's
 * dispatcher (arguments and results parsed as over IPC or the control API), across three apps with
 * their own data directories: one co-signer creates a 2-of-3 group and shares it, another imports it
 * after comparing its first address, and a third machine restores every group from a backup file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requests, type Group, type GroupPreview, type GroupWallet } from '../../../preload/contract.ts';
import { startServices, type Services } from '../../../main/app.ts';
import { createDispatcher, type Dispatcher } from '../../../main/contract-dispatch.ts';
import { addressOf } from '../../support/descriptor-reader.ts';

const key = (i: number) => bytesToHex(secp256k1.getPublicKey(secp256k1.Point.Fn.toBytes(BigInt(i))));
const KEYS = [key(21), key(22), key(23)];

interface App {
  services: Services;
  call: Dispatcher;
  dir: string;
}

describe('groups shared as files, not retyped', () => {
  const apps: App[] = [];
  const internalErrors: unknown[] = [];
  let creator: App;
  let joiner: App;
  let restored: App;

  async function app(name: string): Promise<App> {
    const dir = mkdtempSync(path.join(os.tmpdir(), `cosigner-share-${name}-`));
    const services = await startServices({
      mode: 'headless',
      dataDir: dir,
      keystore: { kind: 'file', passphrase: `share test ${name}` },
      overrides: { network: 'regtest', mdns: false },
    });
    const made = { services, dir, call: createDispatcher(requests, services.handlers, (_m, e) => internalErrors.push(e)) };
    apps.push(made);
    return made;
  }

  beforeAll(async () => {
    [creator, joiner, restored] = [await app('creator'), await app('joiner'), await app('restored')];
  });

  afterAll(async () => {
    for (const a of apps) {
      await a.services.stop();
      rmSync(a.dir, { recursive: true, force: true });
    }
    expect(internalErrors).toEqual([]);
  });

  it('a 2-of-3 group shared by one co-signer is imported by another as the same group, once its first address is compared', async () => {
    await creator.call('contacts.save', { publicKey: KEYS[1], name: 'Bob' });
    const made = (await creator.call('groups.save', { name: 'Savings', publicKeys: KEYS, policy: { kind: 'k-of-n', k: 2 } })) as Group;
    const { text, fileName } = (await creator.call('groups.export', { id: made.id })) as { text: string; fileName: string };
    expect(fileName).toBe('cosigner-group-savings.json');

    const [preview] = (await joiner.call('groups.preview', { text })) as GroupPreview[];
    const wallet = (await creator.call('groups.wallet', { id: made.id })) as GroupWallet;
    expect(preview).toMatchObject({
      group: made,
      alreadySaved: false,
      includesMe: false,
      signerNames: [{ publicKey: KEYS[1], name: 'Bob' }],
    });
    // The address to compare is the creator's first receive address, and other code reads it from the descriptor.
    expect(preview!.firstAddress).toBe(wallet.receiveAddresses[0]);
    expect(addressOf(wallet.descriptors.receive, 0, 'regtest')).toBe(preview!.firstAddress);
    expect(await joiner.call('groups.list', {})).toEqual([]);

    await expect(joiner.call('groups.import', { text, firstAddresses: [wallet.receiveAddresses[1]] })).rejects.toMatchObject({
      code: 'CONFIRMATION_MISMATCH',
    });
    expect(await joiner.call('groups.list', {})).toEqual([]);

    const imported = (await joiner.call('groups.import', { text, firstAddresses: [preview!.firstAddress] })) as Group[];
    expect(imported).toEqual([made]);
    expect(await joiner.call('groups.list', {})).toEqual([made]);
    expect(await joiner.call('groups.wallet', { id: made.id })).toEqual(wallet);
    expect(await joiner.call('contacts.list', {})).toMatchObject([{ publicKey: KEYS[1], name: 'Bob' }]);
    expect(((await joiner.call('groups.preview', { text })) as GroupPreview[])[0]!.alreadySaved).toBe(true);
  });

  it('a pasted group descriptor is previewed and imported under the name given', async () => {
    const made = (await creator.call('groups.save', { name: 'Pair', publicKeys: KEYS.slice(0, 2) })) as Group;
    const { descriptors } = (await creator.call('groups.wallet', { id: made.id })) as GroupWallet;
    const [preview] = (await joiner.call('groups.preview', { text: descriptors.keyPath, name: 'Our pair' })) as GroupPreview[];
    expect(preview!.group).toEqual({ ...made, name: 'Our pair' });
    await joiner.call('groups.import', { text: descriptors.keyPath, name: 'Our pair', firstAddresses: [preview!.firstAddress] });
    expect(((await joiner.call('groups.list', {})) as Group[]).map((g) => g.id)).toContain(made.id);
  });

  it('the backup file of every group restores them on a new machine, with the same ids, policies and addresses', async () => {
    await creator.call('groups.save', {
      name: 'Slow',
      publicKeys: KEYS,
      policy: { kind: 'n-of-n', recovery: { keys: [key(40)], olderBlocks: 52_560 } },
    });
    const { text, fileName } = (await creator.call('groups.export', {})) as { text: string; fileName: string };
    expect(fileName).toBe('cosigner-groups.json');
    const previews = (await restored.call('groups.preview', { text })) as GroupPreview[];
    const groups = (await restored.call('groups.import', { text, firstAddresses: previews.map((p) => p.firstAddress) })) as Group[];
    expect(groups).toHaveLength(3);
    expect(await restored.call('groups.list', {})).toEqual(await creator.call('groups.list', {}));
  });

  it('refuses a file with a tampered descriptor, and a group file for another network, saving nothing', async () => {
    const { text } = (await creator.call('groups.export', {})) as { text: string };
    const before = await joiner.call('groups.list', {});
    const json = JSON.parse(text);
    json.groups[0].descriptor = json.groups[0].descriptor.replace(KEYS[0], key(99));
    await expect(joiner.call('groups.preview', { text: JSON.stringify(json) })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: /checksum does not match/,
    });
    await expect(
      joiner.call('groups.preview', { text: text.replace('"network": "regtest"', '"network": "mainnet"') }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: /this file is for mainnet/,
    });
    expect(await joiner.call('groups.list', {})).toEqual(before);
  });

  it('takes a message request for a k-of-n group (it names the group path), and a leaf it does not have is WRONG_PATH', async () => {
    const two = ((await creator.call('groups.list', {})) as Group[]).find((g) => g.policy?.kind === 'k-of-n')!;
    // The group is not refused any more: the request goes on to the signer, which this app has not got.
    await expect(creator.call('sessions.create', { groupId: two.id, message: { kind: 'text', text: 'hello' } })).rejects.toMatchObject({
      code: 'KEY_NOT_FOUND',
    });
    await expect(
      creator.call('sessions.create', { groupId: two.id, message: { kind: 'text', text: 'hello' }, path: { kind: 'leaf', leaf: 3 } }),
    ).rejects.toMatchObject({ code: 'WRONG_PATH' });
  });
});
