import { inspect } from 'node:util';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { CosignerError, isCosignerError } from '../../../main/errors.ts';
import { publicKeyOf, secretKeyFromMnemonic } from '../../../main/keys/key-derivation.ts';
import { type KeyEvent, KeyManager } from '../../../main/keys/key-manager.ts';
import { LocalSignerKey } from '../../../main/keys/local-signer-key.ts';
import { seededRandom } from '../../support/random.ts';
import { expectNoSecrets, failure, MemorySecretBackend } from '../../support/keys.ts';

const RAW_SECRET = 'b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef'; // BIP340 vector 1
const RAW_XONLY = 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659';

function setup(label = 'key-manager') {
  const backend = new MemorySecretBackend();
  const events: KeyEvent[] = [];
  const random = seededRandom(label);
  const manager = new KeyManager({ backend, profile: 'alice', random, onEvent: (e) => events.push(e) });
  return { backend, events, random, manager };
}

describe('creating a key: stored only after the backup is confirmed', () => {
  it('beginCreate returns 24 words and stores nothing; confirmBackup with the words stores the key', async () => {
    const { backend, manager, events } = setup();
    const pending = await manager.beginCreate();
    const words = pending.words();
    expect(words).toHaveLength(24);
    expect(backend.entries.size).toBe(0);
    expect(await manager.info()).toBeNull();
    await expect(manager.loadSigner()).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });

    const info = await manager.confirmBackup(pending.id, words.join(' '));
    expect(info).toEqual({ publicKey: pending.publicKey, fingerprint: pending.fingerprint, origin: 'generated' });
    expect([...backend.entries.keys()]).toEqual(['alice/signer-key']);
    expect(await manager.info()).toEqual(info);
    expect(events).toEqual([
      {
        type: 'signer-key-stored',
        profile: 'alice',
        backend: 'memory',
        origin: 'generated',
        publicKey: info.publicKey,
        fingerprint: info.fingerprint,
      },
    ]);
    // The key is the documented derivation of the words.
    expect(bytesToHex(publicKeyOf(secretKeyFromMnemonic(words.join(' '))))).toBe(info.publicKey);
  });

  it('accepts the words typed with other case and spacing', async () => {
    const { manager } = setup();
    const pending = await manager.beginCreate();
    const typed = `  ${pending.words().join('\n ').toUpperCase()}  `;
    await expect(manager.confirmBackup(pending.id, typed)).resolves.toMatchObject({ origin: 'generated' });
  });

  it('wrong, missing or extra words: CONFIRMATION_MISMATCH naming the position, nothing stored, retry possible', async () => {
    const { backend, manager } = setup();
    const pending = await manager.beginCreate();
    const words = pending.words();
    const wrong = [...words];
    wrong[6] = words[6] === 'zoo' ? 'abandon' : 'zoo';
    for (const [typed, position] of [
      [wrong.join(' '), 7],
      [words.slice(0, 23).join(' '), 24],
      [[...words, 'zoo'].join(' '), 25],
      ['', 1],
    ] as const) {
      const e = await failure(manager.confirmBackup(pending.id, typed));
      expect(e.code).toBe('CONFIRMATION_MISMATCH');
      expect(e.context).toEqual({ what: 'backup-words', position });
      expectNoSecrets([e], { mnemonics: [words.join(' ')] });
    }
    expect(backend.entries.size).toBe(0);
    await expect(manager.confirmBackup(pending.id, words.join(' '))).resolves.toBeTruthy();
  });

  it('a stale or unknown pending id is refused; cancelCreate forgets the pending key', async () => {
    const { manager } = setup();
    const first = await manager.beginCreate();
    const second = await manager.beginCreate();
    expect(second.id).not.toBe(first.id);
    expect((await failure(manager.confirmBackup(first.id, first.words().join(' ')))).code).toBe('INVALID_INPUT');
    await manager.cancelCreate();
    expect((await failure(manager.confirmBackup(second.id, second.words().join(' ')))).code).toBe('INVALID_INPUT');
  });

  it('a cancel issued while the confirmation is storing waits for it', async () => {
    const { backend, manager } = setup();
    const pending = await manager.beginCreate();
    const confirmed = manager.confirmBackup(pending.id, pending.words().join(' '));
    const cancelled = manager.cancelCreate();
    const info = await confirmed;
    await cancelled;
    expect(await manager.info()).toEqual(info);
    expect(backend.entries.size).toBe(1);
  });

  it('KEY_EXISTS: creating or importing over an existing key, even one stored after beginCreate', async () => {
    const { backend, manager } = setup();
    const pending = await manager.beginCreate();
    // Another process stores a key in between.
    const other = new KeyManager({ backend, profile: 'alice', random: seededRandom('other') });
    await other.importSecretHex(RAW_SECRET);
    const stored = Uint8Array.from(backend.entries.get('alice/signer-key') as Uint8Array);

    const e = await failure(manager.confirmBackup(pending.id, pending.words().join(' ')));
    expect(e.code).toBe('KEY_EXISTS');
    expect((await failure(manager.beginCreate())).code).toBe('KEY_EXISTS');
    expect((await failure(manager.importSecretHex('11'.repeat(32)))).code).toBe('KEY_EXISTS');
    expect((await failure(manager.importMnemonic(pending.words().join(' ')))).code).toBe('KEY_EXISTS');
    expect(bytesToHex(backend.entries.get('alice/signer-key') as Uint8Array)).toBe(bytesToHex(stored));
  });

  it('profiles are separate', async () => {
    const { backend } = setup();
    const alice = new KeyManager({ backend, profile: 'alice' });
    const bob = new KeyManager({ backend, profile: 'bob' });
    await alice.importSecretHex(RAW_SECRET);
    expect(await bob.info()).toBeNull();
    await expect(bob.importSecretHex(RAW_SECRET)).resolves.toBeTruthy();
    expect([...backend.entries.keys()].sort()).toEqual(['alice/signer-key', 'bob/signer-key']);
  });

  it.each(['', '.hidden', 'a/b', '../x', 'x'.repeat(65), 'a b'])('rejects the profile name %j', (profile) => {
    expect(() => new KeyManager({ backend: new MemorySecretBackend(), profile })).toThrow(CosignerError);
  });
});

describe('backup and restore', () => {
  it('the words restore the same key on another machine', async () => {
    const first = setup('machine-1');
    const pending = await first.manager.beginCreate();
    const created = await first.manager.confirmBackup(pending.id, pending.words().join(' '));

    const second = setup('machine-2');
    const restored = await second.manager.importMnemonic(pending.words().join(' '));
    expect(restored).toEqual({ ...created, origin: 'mnemonic' });
    const a = await first.manager.loadSigner();
    const b = await second.manager.loadSigner();
    expect(bytesToHex(b.secretKey())).toBe(bytesToHex(a.secretKey()));
  });

  it('imports a raw hex key and reports its public key', async () => {
    const { manager, events } = setup();
    const info = await manager.importSecretHex(RAW_SECRET.toUpperCase());
    expect(info.publicKey.slice(2)).toBe(RAW_XONLY);
    expect(info.origin).toBe('raw');
    expect(events[0]).toMatchObject({ type: 'signer-key-stored', origin: 'raw' });
  });

  it('bad imports store nothing', async () => {
    const { backend, manager } = setup();
    expect((await failure(manager.importSecretHex('00'.repeat(32)))).code).toBe('INVALID_SECRET_KEY');
    expect((await failure(manager.importMnemonic('zoo '.repeat(24)))).code).toBe('INVALID_MNEMONIC');
    expect(backend.entries.size).toBe(0);
  });
});

describe('the signer handle', () => {
  it('gives copies of the secret and is disposable', async () => {
    const { manager } = setup();
    await manager.importSecretHex(RAW_SECRET);
    const signer = await manager.loadSigner();
    expect(signer).toBeInstanceOf(LocalSignerKey);
    const copy = signer.secretKey();
    expect(bytesToHex(copy)).toBe(RAW_SECRET);
    copy.fill(0);
    expect(bytesToHex(signer.secretKey())).toBe(RAW_SECRET);
    signer.publicKey.fill(0);
    expect(bytesToHex(signer.publicKey).slice(2)).toBe(RAW_XONLY);
    signer.dispose();
    expect(signer.disposed).toBe(true);
    expect(() => signer.secretKey()).toThrow(CosignerError);
  });

  it('a corrupt stored record is CORRUPT_KEY_FILE, never a wrong key', async () => {
    const { backend, manager } = setup();
    await manager.importSecretHex(RAW_SECRET);
    const record = backend.entries.get('alice/signer-key') as Uint8Array;
    for (const mutate of [
      (r: Uint8Array) => r.subarray(0, 33),
      (r: Uint8Array) => {
        r[0] = 2;
        return r;
      },
      (r: Uint8Array) => {
        r[1] = 9;
        return r;
      },
    ]) {
      backend.entries.set('alice/signer-key', mutate(Uint8Array.from(record)));
      expect((await failure(manager.loadSigner())).code).toBe('CORRUPT_KEY_FILE');
    }
    const zero = Uint8Array.from(record);
    zero.fill(0, 2);
    backend.entries.set('alice/signer-key', zero);
    expect((await failure(manager.info())).code).toBe('CORRUPT_KEY_FILE');
  });
});

describe('deleting a key needs its fingerprint', () => {
  it('a wrong fingerprint deletes nothing; the right one (any case) deletes', async () => {
    const { backend, manager, events } = setup();
    const info = await manager.importSecretHex(RAW_SECRET);
    const e = await failure(manager.delete('00000000'));
    expect(e.code).toBe('CONFIRMATION_MISMATCH');
    expect(e.context).toEqual({ what: 'fingerprint' });
    expect(backend.entries.size).toBe(1);
    await manager.delete(` ${info.fingerprint.toUpperCase()} `);
    expect(backend.entries.size).toBe(0);
    expect(events.at(-1)).toEqual({ type: 'signer-key-deleted', profile: 'alice', backend: 'memory', fingerprint: info.fingerprint });
    expect((await failure(manager.delete(info.fingerprint))).code).toBe('KEY_NOT_FOUND');
    // And a new key can be made afterwards.
    await expect(manager.importSecretHex(RAW_SECRET)).resolves.toEqual(info);
  });
});

describe('peer identity', () => {
  it('is created once, stored, and stable', async () => {
    const { backend, manager, events } = setup();
    const first = await manager.peerIdentity();
    expect(first.peerId).toMatch(/^12D3KooW/);
    expect(backend.entries.has('alice/peer-identity')).toBe(true);
    const again = await new KeyManager({ backend, profile: 'alice' }).peerIdentity();
    expect(again.peerId).toBe(first.peerId);
    expect(first.privateKey().type).toBe('Ed25519');
    expect(events).toEqual([{ type: 'peer-identity-created', profile: 'alice', backend: 'memory', peerId: first.peerId }]);
  });

  it('concurrent first calls create one identity', async () => {
    const { backend, manager } = setup();
    const [a, b] = await Promise.all([manager.peerIdentity(), manager.peerIdentity()]);
    expect(a.peerId).toBe(b.peerId);
    expect(backend.calls.filter((c) => c.startsWith('set')).length).toBe(1);
  });

  it('an unreadable stored identity is CORRUPT_KEY_FILE', async () => {
    const { backend, manager } = setup();
    backend.entries.set('alice/peer-identity', new Uint8Array([1, 2, 3]));
    expect((await failure(manager.peerIdentity())).code).toBe('CORRUPT_KEY_FILE');
  });
});

describe('no secret in anything this module returns, throws or emits', () => {
  it('scans every object, error and event of a full life cycle', async () => {
    const { manager, events } = setup('redaction');
    const outputs: unknown[] = [];
    const capture = async <T>(p: Promise<T>): Promise<T | undefined> => {
      try {
        const value = await p;
        outputs.push(value);
        return value;
      } catch (e) {
        outputs.push(e);
        return undefined;
      }
    };

    const pending = (await capture(manager.beginCreate())) as Awaited<ReturnType<KeyManager['beginCreate']>>;
    const mnemonic = pending.words().join(' ');
    const secret = secretKeyFromMnemonic(mnemonic);
    await capture(manager.confirmBackup(pending.id, `${mnemonic} extra`));
    await capture(manager.confirmBackup(pending.id, mnemonic));
    await capture(manager.beginCreate());
    await capture(manager.importMnemonic(mnemonic));
    await capture(manager.importSecretHex(bytesToHex(secret)));
    const signer = (await capture(manager.loadSigner())) as LocalSignerKey;
    const identity = (await capture(manager.peerIdentity())) as Awaited<ReturnType<KeyManager['peerIdentity']>>;
    const identityRaw = identity.privateKey().raw;
    await capture(manager.delete('ffffffff'));
    outputs.push(await manager.info());

    expect(outputs.filter((o) => o instanceof CosignerError).length).toBeGreaterThanOrEqual(5);
    expectNoSecrets([...outputs, ...events, signer, pending, identity], {
      bytes: [secret, identityRaw.subarray(0, 32)],
      mnemonics: [mnemonic],
    });
    // The explicit accessors do give the secrets: the scan above is not vacuous.
    expect(bytesToHex(signer.secretKey())).toBe(bytesToHex(secret));
    expect(inspect(identity.privateKey(), { depth: 4 })).toContain('raw');
  });

  it('the handles render only public data', () => {
    const signer = new LocalSignerKey(hexToBytes(RAW_SECRET));
    expect(JSON.parse(JSON.stringify(signer))).toEqual({ publicKey: bytesToHex(signer.publicKey), fingerprint: signer.fingerprint });
    expect(inspect(signer)).toBe(`LocalSignerKey { fingerprint: '${signer.fingerprint}', publicKey: '${bytesToHex(signer.publicKey)}' }`);
    expect(structuredClone(signer)).not.toHaveProperty('secretKey');
    expectNoSecrets([signer, structuredClone(signer), { nested: [signer] }], { bytes: [hexToBytes(RAW_SECRET)] });
  });

  it('a listener that throws does not make a stored key look unstored', async () => {
    const backend = new MemorySecretBackend();
    const manager = new KeyManager({
      backend,
      profile: 'alice',
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    await expect(manager.importSecretHex(RAW_SECRET)).resolves.toMatchObject({ origin: 'raw' });
    expect(isCosignerError(await failure(manager.importSecretHex(RAW_SECRET)), 'KEY_EXISTS')).toBe(true);
  });
});
