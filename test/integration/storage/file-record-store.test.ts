import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileRecordStore } from '../../../main/storage/record-store.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cosigner-records-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileRecordStore (real files)', () => {
  it('stores, lists, replaces and deletes JSON documents', async () => {
    const store = await FileRecordStore.open(join(dir, 'sessions'));
    expect(await store.keys()).toEqual([]);
    await store.put('abc', { a: 1, b: ['x', null, true] });
    await store.put('def', 'text');
    expect(await store.get('abc')).toEqual({ a: 1, b: ['x', null, true] });
    expect(await store.keys()).toEqual(['abc', 'def']);
    await store.put('abc', { a: 2 });
    expect(await store.get('abc')).toEqual({ a: 2 });
    await store.delete('def');
    await store.delete('def');
    expect(await store.get('def')).toBeUndefined();
    expect(await store.keys()).toEqual(['abc']);
  });

  it('survives a new instance (a restart) and keeps files private', async () => {
    const path = join(dir, 'sessions');
    await (await FileRecordStore.open(path)).put('k', { kept: true });
    const again = await FileRecordStore.open(path);
    expect(await again.get('k')).toEqual({ kept: true });
    if (process.platform !== 'win32') {
      expect((await stat(join(path, 'k.json'))).mode & 0o777).toBe(0o600);
      expect((await stat(path)).mode & 0o777).toBe(0o700);
    }
  });

  it('applies concurrent writes to one key in call order and leaves no temp files', async () => {
    const store = await FileRecordStore.open(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('k', { i })));
    expect(await store.get('k')).toEqual({ i: 19 });
    expect((await readdir(dir)).sort()).toEqual(['k.json']);
  });

  it('removes temp files left by a crash when opened, and never lists them', async () => {
    await writeFile(join(dir, 'k.json.1234.tmp'), '{"half":');
    await writeFile(join(dir, 'k.json'), '{"whole":true}');
    const store = await FileRecordStore.open(dir);
    expect(await readdir(dir)).toEqual(['k.json']);
    expect(await store.keys()).toEqual(['k']);
    expect(await store.get('k')).toEqual({ whole: true });
  });

  it('reports a corrupt document and refuses unsafe keys', async () => {
    await writeFile(join(dir, 'bad.json'), '{not json');
    const store = await FileRecordStore.open(dir);
    await expect(store.get('bad')).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    for (const key of ['../x', 'a/b', '.hidden', '', 'UPPER', 'x'.repeat(129)]) {
      await expect(store.put(key, 1), key).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
  });

  it('fails with STORAGE_FAILED when the directory cannot be written', async () => {
    const path = join(dir, 'gone');
    const store = await FileRecordStore.open(path);
    // Replaced by a plain file: no user, root included, can create files under it.
    await rm(path, { recursive: true });
    await writeFile(path, 'not a directory');
    await expect(store.put('k', 1)).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    await expect(store.keys()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
  });
});
