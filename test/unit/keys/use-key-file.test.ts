import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CosignerError } from '../../../main/errors.ts';
import { KeyManager, type SecretBackend } from '../../../main/keys/index.ts';
import { SwitchableBackend } from '../../../main/keys/switchable-backend.ts';
import { MIN_NEW_PASSPHRASE_CHARS, useKeyFile } from '../../../main/keys/use-key-file.ts';

const LIGHT = { log2N: 10, r: 8, p: 1 };
const SECRET = '0f'.repeat(32);
const PASS = 'correct horse battery staple';

/** A keychain: in memory, or one that cannot be reached (no Secret Service on this desktop). */
class MemoryKeychain implements SecretBackend {
  readonly kind = 'keychain';
  readonly map = new Map<string, Uint8Array>();
  readonly reachable: boolean;
  constructor(reachable = true) {
    this.reachable = reachable;
  }
  async get(name: string) {
    this.#check();
    return this.map.get(name)?.slice() ?? null;
  }
  async set(name: string, value: Uint8Array) {
    this.#check();
    this.map.set(name, value.slice());
  }
  async delete(name: string) {
    this.#check();
    return this.map.delete(name);
  }
  #check() {
    if (!this.reachable) throw new CosignerError('KEYCHAIN_UNAVAILABLE', 'no Secret Service');
  }
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function keyFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cosigner-usefile-'));
  dirs.push(dir);
  return path.join(dir, 'keys', 'default.keys');
}

function setup(backend: SwitchableBackend) {
  return { backend, keys: new KeyManager({ backend, profile: 'default' }) };
}

describe('keystore choice in the desktop app', () => {
  it('where no keychain works, keeps the key in a new encrypted file', async () => {
    const { backend, keys } = setup(SwitchableBackend.keychain(new MemoryKeychain(false)));
    await expect(keys.info()).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    const file = keyFile();
    await useKeyFile({ backend, keys, path: file, passphrase: PASS, scrypt: LIGHT });
    expect(backend.current).toBe('file');
    const made = await keys.importSecretHex(SECRET);
    expect(existsSync(file)).toBe(true);

    // The next start: the file exists, so it is locked until the passphrase is typed again.
    const next = setup(SwitchableBackend.lockedFile());
    await expect(next.keys.info()).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED' });
    await useKeyFile({ ...next, path: file, passphrase: PASS });
    expect((await next.keys.info())?.fingerprint).toBe(made.fingerprint);
  });

  it('stays locked after a wrong passphrase, and opens with the right one', async () => {
    const file = keyFile();
    const first = setup(SwitchableBackend.keychain(new MemoryKeychain(false)));
    await useKeyFile({ ...first, path: file, passphrase: PASS, scrypt: LIGHT });
    await first.keys.importSecretHex(SECRET);

    const next = setup(SwitchableBackend.lockedFile());
    await expect(useKeyFile({ ...next, path: file, passphrase: 'not the passphrase' })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(next.backend.locked).toBe(true);
    await expect(next.keys.info()).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED' });
    await useKeyFile({ ...next, path: file, passphrase: PASS });
    expect(next.backend.locked).toBe(false);
  });

  it('refuses a short passphrase for a new file', async () => {
    const { backend, keys } = setup(SwitchableBackend.keychain(new MemoryKeychain(false)));
    const short = 'x'.repeat(MIN_NEW_PASSPHRASE_CHARS - 1);
    await expect(useKeyFile({ backend, keys, path: keyFile(), passphrase: short, scrypt: LIGHT })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(backend.current).toBe('keychain');
  });

  it('never hides a key held by a working keychain behind a new, empty file', async () => {
    const keychain = new MemoryKeychain();
    const { backend, keys } = setup(SwitchableBackend.keychain(keychain));
    await keys.importSecretHex(SECRET);
    const file = keyFile();
    await expect(useKeyFile({ backend, keys, path: file, passphrase: PASS, scrypt: LIGHT })).rejects.toMatchObject({ code: 'KEY_EXISTS' });
    expect(backend.current).toBe('keychain');
    expect(existsSync(file)).toBe(false);
    expect(await keys.info()).not.toBeNull();
  });
});
