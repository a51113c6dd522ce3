import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSecretBackend } from '../../../main/keys/file-backend.ts';
import { keyFilePath, openKeystore } from '../../../main/keys/index.ts';
import { seededRandom } from '../../support/random.ts';
import { expectNoSecrets, failure } from '../../support/keys.ts';
import { runChild } from './run-child.ts';

const LIGHT = { log2N: 10, r: 8, p: 1 };
const PASS = 'tr0ub4dor&3';
const SECRET = 'b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef';
const XONLY = 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659';

let dataDir: string;
let path: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cosigner-keys-'));
  path = keyFilePath(dataDir, 'alice');
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function keystore(passphrase = PASS, scrypt = LIGHT) {
  return openKeystore({ kind: 'file', profile: 'alice', dataDir, passphrase, scrypt, random: seededRandom(`file-${passphrase}`) });
}

/** Bytes, inode and mtime: "unchanged" means not rewritten either. */
async function snapshot(): Promise<string> {
  const s = await stat(path);
  return `${bytesToHex(await readFile(path))}|${s.ino}|${s.mtimeMs}|${(s.mode & 0o777).toString(8)}`;
}

async function leftovers(): Promise<string[]> {
  return (await readdir(join(dataDir, 'keys'))).filter((f) => f !== 'alice.keys');
}

describe('file keystore', () => {
  it('stores the signer key and the peer identity in one 0600 file in a 0700 directory', async () => {
    const ks = keystore();
    expect(ks.backendKind).toBe('file');
    const info = await ks.importSecretHex(SECRET);
    const identity = await ks.peerIdentity();
    expect(path).toBe(join(dataDir, 'keys', 'alice.keys'));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'keys'))).mode & 0o777).toBe(0o700);
    expect(await leftovers()).toEqual([]);

    const again = keystore();
    expect(await again.info()).toEqual(info);
    expect(bytesToHex((await again.loadSigner()).publicKey).slice(2)).toBe(XONLY);
    expect((await again.peerIdentity()).peerId).toBe(identity.peerId);

    const file = await readFile(path);
    expectNoSecrets([bytesToHex(file), file.toString('latin1')], { bytes: [hexToBytes(SECRET)] });
    expect(file.toString('latin1')).not.toContain(PASS);
  });

  it('a new process reads the key back', async () => {
    const info = await keystore().importSecretHex(SECRET);
    const child = await runChild('info', { kind: 'file', profile: 'alice', dataDir, passphrase: PASS });
    expect(child).toEqual({ info });
  });

  it('the right passphrase opens it, a wrong one is WRONG_PASSPHRASE for every operation, file unchanged', async () => {
    await keystore().importSecretHex(SECRET);
    const before = await snapshot();
    const wrong = keystore('tr0ub4dor&4');
    for (const op of [
      () => wrong.info(),
      () => wrong.loadSigner(),
      () => wrong.peerIdentity(),
      () => wrong.delete('00000000'),
      () => wrong.beginCreate(),
    ]) {
      const e = await failure(op());
      expect(e.code).toBe('WRONG_PASSPHRASE');
      expect(e.context).toEqual({ path });
      expect(await snapshot()).toBe(before);
    }
    // And the backend itself never writes under a second passphrase.
    const raw = new FileSecretBackend({ path, passphrase: 'other', scrypt: LIGHT });
    expect((await failure(raw.set('alice/peer-identity', new Uint8Array([1])))).code).toBe('WRONG_PASSPHRASE');
    expect(await snapshot()).toBe(before);
    expect(await leftovers()).toEqual([]);
    await expect(keystore().info()).resolves.toMatchObject({ origin: 'raw' });
  });

  const regions: [string, number][] = [
    ['magic', 3],
    ['version', 8],
    ['scrypt parameters', 10],
    ['salt', 30],
    ['nonce', 60],
    ['length', 72],
    ['passphrase check', 75],
    ['ciphertext', 95],
    ['tag', -40],
    ['checksum', -5],
  ];

  it.each(regions)('a byte flipped in the %s: CORRUPT_KEY_FILE for every operation, file unchanged', async (_region, offset) => {
    await keystore().importSecretHex(SECRET);
    const bytes = await readFile(path);
    const at = offset < 0 ? bytes.length + offset : offset;
    bytes[at] = (bytes[at] as number) ^ 0x20;
    await writeFile(path, bytes, { mode: 0o600 });
    const before = await snapshot();
    const ks = keystore();
    for (const op of [() => ks.info(), () => ks.peerIdentity(), () => ks.importSecretHex(SECRET), () => ks.delete('00000000')]) {
      expect((await failure(op())).code).toBe('CORRUPT_KEY_FILE');
      expect(await snapshot()).toBe(before);
    }
  });

  it('a truncated file is CORRUPT_KEY_FILE, file unchanged', async () => {
    await keystore().importSecretHex(SECRET);
    const full = await readFile(path);
    for (const length of [0, 5, 50, full.length - 40, full.length - 1]) {
      await writeFile(path, full.subarray(0, length));
      const before = await snapshot();
      const ks = keystore();
      expect((await failure(ks.info())).code, `length ${length}`).toBe('CORRUPT_KEY_FILE');
      expect((await failure(ks.peerIdentity())).code).toBe('CORRUPT_KEY_FILE');
      expect(await snapshot()).toBe(before);
    }
  });

  it('an unreadable or unwritable location is STORAGE_FAILED', async () => {
    await writeFile(join(dataDir, 'keys'), 'not a directory');
    const unreadable = await failure(keystore().importSecretHex(SECRET));
    expect(unreadable.code).toBe('STORAGE_FAILED');
    expect(unreadable.context).toMatchObject({ operation: 'read', path, errno: 'ENOTDIR' });
    // A dangling link: reading finds nothing, writing cannot create the directory (even as root).
    await rm(join(dataDir, 'keys'));
    await symlink(join(dataDir, 'gone', 'deeper'), join(dataDir, 'keys'));
    const unwritable = await failure(keystore().importSecretHex(SECRET));
    expect(unwritable.code).toBe('STORAGE_FAILED');
    expect(unwritable.context).toMatchObject({ operation: 'write', path });
  });

  it('deleting the last secret removes the file; deleting one of two keeps the other', async () => {
    const ks = keystore();
    const info = await ks.importSecretHex(SECRET);
    const identity = await ks.peerIdentity();
    await ks.delete(info.fingerprint);
    expect(await keystore().info()).toBeNull();
    expect((await keystore().peerIdentity()).peerId).toBe(identity.peerId);
    const backend = new FileSecretBackend({ path, passphrase: PASS, scrypt: LIGHT });
    expect(await backend.delete('alice/peer-identity')).toBe(true);
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await backend.delete('alice/peer-identity')).toBe(false);
  });

  it('rewrites keep the KDF cost they were configured with; a file at another cost is re-keyed', async () => {
    await keystore(PASS, { log2N: 9, r: 8, p: 1 }).importSecretHex(SECRET);
    const first = await readFile(path);
    expect(first[10]).toBe(9);
    await keystore().peerIdentity(); // configured log2N = 10
    const second = await readFile(path);
    expect(second[10]).toBe(10);
    expect(bytesToHex(second.subarray(13, 45))).not.toBe(bytesToHex(first.subarray(13, 45))); // new salt
    const ks = keystore();
    await ks.info();
    await ks.delete((await ks.info())?.fingerprint ?? '');
    const third = await readFile(path);
    expect(bytesToHex(third.subarray(13, 45))).toBe(bytesToHex(second.subarray(13, 45))); // same salt, new nonce
    expect(bytesToHex(third.subarray(45, 69))).not.toBe(bytesToHex(second.subarray(45, 69)));
  });

  it('a missing passphrase is PASSPHRASE_REQUIRED before anything is touched', async () => {
    const e = await failure((async () => openKeystore({ kind: 'file', profile: 'alice', dataDir }))());
    expect(e.code).toBe('PASSPHRASE_REQUIRED');
    expect(e.context.hint).toContain('COSIGNER_KEYSTORE_PASSPHRASE');
    expect((await failure((async () => openKeystore({ kind: 'file', profile: 'alice', dataDir, passphrase: '' }))())).code).toBe(
      'PASSPHRASE_REQUIRED',
    );
  });

  it('code that uses only the file keystore never loads keytar', async () => {
    await keystore().importSecretHex(SECRET);
    const child = await runChild('modules', { kind: 'file', profile: 'alice', dataDir, passphrase: PASS });
    expect(child.keytarLoaded).toBe(false);
    expect(child.info).toMatchObject({ origin: 'raw' });
  });
});
