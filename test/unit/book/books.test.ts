import { hexToBytes } from '@noble/hashes/utils.js';
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ContactBook } from '../../../main/book/contact-book.ts';
import { GroupBook } from '../../../main/book/group-book.ts';
import { DEFAULT_SETTINGS, SettingsStore } from '../../../main/book/settings-store.ts';
import { FileRecordStore } from '../../../main/storage/record-store.ts';

const KEY_A = '02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9';
const KEY_B = '03dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659';
const clock = { now: () => 1_700_000_000_000 };
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function store(): Promise<{ dir: string; store: FileRecordStore }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cosigner-books-'));
  dirs.push(dir);
  return { dir, store: await FileRecordStore.open(dir) };
}

describe('contacts, groups and settings on disk', () => {
  it('contacts are saved, renamed, listed by name and removed; a new instance reads them back', async () => {
    const { store: s } = await store();
    const book = await ContactBook.open(s, clock);
    await book.save(KEY_B, 'Zoe');
    await book.save(KEY_A, 'Adam');
    await book.save(KEY_B, 'Bob');
    expect((await ContactBook.open(s, clock)).list().map((c) => c.name)).toEqual(['Adam', 'Bob']);
    await book.remove(KEY_A);
    expect(book.nameOf(KEY_A)).toBeUndefined();
    await expect(book.remove(KEY_A)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('a group is saved with its derived keys and address; the same key set is one group', async () => {
    const { store: s } = await store();
    const book = await GroupBook.open(s, 'regtest');
    const g = await book.save({ name: 'Household', publicKeys: [KEY_B, KEY_A] });
    expect(g.address).toMatch(/^bcrt1p/);
    const again = await book.save({ name: 'Renamed', publicKeys: [KEY_A, KEY_B] });
    expect(again.id).toBe(g.id);
    const reopened = await GroupBook.open(s, 'regtest');
    expect(reopened.list().map((x) => x.name)).toEqual(['Renamed']);
    await reopened.remove(g.id);
    expect(() => reopened.get(g.id)).toThrow(/no such group/);
  });

  it('knows a signer set only when it is exactly a saved group’s keys, in any order (the coordinator’s door)', async () => {
    const { store: s } = await store();
    const book = await GroupBook.open(s, 'regtest');
    const KEY_C = '02' + '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
    const keys = (...hex: string[]) => hex.map((h) => hexToBytes(h));
    expect(book.knows(keys(KEY_A, KEY_B))).toBe(false);
    const g = await book.save({ name: 'Household', publicKeys: [KEY_A, KEY_B] });
    expect(book.knows(keys(KEY_A, KEY_B))).toBe(true);
    expect(book.knows(keys(KEY_B, KEY_A))).toBe(true);
    expect(book.knows(keys(KEY_A))).toBe(false);
    expect(book.knows(keys(KEY_A, KEY_B, KEY_C))).toBe(false);
    expect(book.knows(keys(KEY_A, KEY_C))).toBe(false);
    expect((await GroupBook.open(s, 'regtest')).knows(keys(KEY_B, KEY_A))).toBe(true);
    await book.remove(g.id);
    expect(book.knows(keys(KEY_A, KEY_B))).toBe(false);
  });

  it('groups.save refuses a key and its negation (same x, one BIP340 signer): DUPLICATE_SIGNER, before any address', async () => {
    const { store: s } = await store();
    const book = await GroupBook.open(s, 'regtest');
    const negated = `${KEY_A.startsWith('02') ? '03' : '02'}${KEY_A.slice(2)}`;
    await expect(book.save({ name: 'Twins', publicKeys: [KEY_A, negated, KEY_B] })).rejects.toMatchObject({ code: 'DUPLICATE_SIGNER' });
    expect(book.list()).toEqual([]);
    expect(await s.get('groups')).toBeUndefined();
  });

  it('contacts.save refuses a key that is not a point on the curve: INVALID_PUBLIC_KEY', async () => {
    const { store: s } = await store();
    const book = await ContactBook.open(s, clock);
    // x = 5: x³ + 7 is not a square modulo p, so no point has it.
    const offCurve = `02${'00'.repeat(31)}05`;
    await expect(book.save(offCurve, 'Nobody')).rejects.toMatchObject({ code: 'INVALID_PUBLIC_KEY' });
    expect(book.list()).toEqual([]);
  });

  it('settings start from the defaults, keep what is set, and refuse values outside the schema', async () => {
    const { store: s } = await store();
    const settings = await SettingsStore.open(s);
    expect(settings.get()).toEqual(DEFAULT_SETTINGS);
    await settings.update({ displayName: 'Alice', mdns: false });
    expect((await SettingsStore.open(s)).get()).toMatchObject({ displayName: 'Alice', mdns: false, network: 'mainnet' });
    await expect(settings.update({ sessionTimeoutSeconds: 1 })).rejects.toThrow();
    expect(settings.get().sessionTimeoutSeconds).toBe(DEFAULT_SETTINGS.sessionTimeoutSeconds);
  });

  it('an Electrum server per network: settings saved before it existed read as none; only tcp:// or ssl:// host:port is taken', async () => {
    const { dir, store: s } = await store();
    const before = Object.fromEntries(
      Object.entries(DEFAULT_SETTINGS.chainBackends).map(([n, b]) => [n, { esploraUrl: b.esploraUrl, explorerUrl: b.explorerUrl }]),
    );
    await writeFile(path.join(dir, 'settings.json'), JSON.stringify({ displayName: 'Old', chainBackends: before }));
    const settings = await SettingsStore.open(s);
    expect(settings.get().chainBackends).toEqual(DEFAULT_SETTINGS.chainBackends);
    expect(settings.get().chainBackends.mainnet.electrumUrl).toBeNull();

    const withElectrum = (electrumUrl: string) => ({
      chainBackends: { ...DEFAULT_SETTINGS.chainBackends, mainnet: { ...DEFAULT_SETTINGS.chainBackends.mainnet, electrumUrl } },
    });
    await settings.update(withElectrum('ssl://electrum.example.org:50002'));
    expect((await SettingsStore.open(s)).get().chainBackends.mainnet.electrumUrl).toBe('ssl://electrum.example.org:50002');
    for (const bad of [
      'https://electrum.example.org:50002',
      'tcp://electrum.example.org',
      'tcp://a:b@x.org:1',
      'tcp://x.org:0',
      'tcp://x.org:65536',
    ]) {
      await expect(settings.update(withElectrum(bad)), bad).rejects.toThrow();
    }
    expect(settings.get().chainBackends.mainnet.electrumUrl).toBe('ssl://electrum.example.org:50002');
  });

  it('a damaged file is reported, not trusted and not overwritten', async () => {
    const { dir, store: s } = await store();
    await writeFile(path.join(dir, 'contacts.json'), JSON.stringify([{ publicKey: 'nope', name: '' }]));
    await expect(ContactBook.open(s, clock)).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(await s.get('contacts')).toEqual([{ publicKey: 'nope', name: '' }]);
  });
});
