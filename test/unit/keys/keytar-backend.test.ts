import { describe, expect, it } from 'vitest';
import { classifyKeychainFailure, KEYCHAIN_HINTS } from '../../../main/keys/keychain-errors.ts';
import { type KeytarApi, KeytarSecretBackend } from '../../../main/keys/keytar-backend.ts';
import { failure } from '../../support/keys.ts';

/** A keytar stand-in: a map, a log of calls, and failures to order. */
class FakeKeytar implements KeytarApi {
  readonly items = new Map<string, string>();
  readonly log: string[] = [];
  failWith: string | null = null;
  /** Simulates libsecret on a locked collection: lookups answer null, writes fail. */
  locked = false;

  async getPassword(service: string, account: string): Promise<string | null> {
    this.log.push(`get ${service} ${account}`);
    if (this.failWith !== null) throw new Error(this.failWith);
    if (this.locked) return null;
    return this.items.get(`${service}|${account}`) ?? null;
  }

  async setPassword(service: string, account: string, password: string): Promise<void> {
    this.log.push(`set ${service} ${account}`);
    if (this.failWith !== null) throw new Error(this.failWith);
    if (this.locked) throw new Error('Cannot create an item in a locked collection');
    this.items.set(`${service}|${account}`, password);
  }

  async deletePassword(service: string, account: string): Promise<boolean> {
    this.log.push(`delete ${service} ${account}`);
    if (this.failWith !== null) throw new Error(this.failWith);
    return this.items.delete(`${service}|${account}`);
  }
}

describe('KeytarSecretBackend', () => {
  it('loads keytar lazily, once', async () => {
    let loads = 0;
    const fake = new FakeKeytar();
    const backend = new KeytarSecretBackend({ load: () => (loads++, fake) });
    expect(loads).toBe(0);
    await backend.set('p/signer-key', new Uint8Array([1, 2, 255]));
    await backend.get('p/signer-key');
    expect(loads).toBe(1);
  });

  it('stores values as hex under the service and the name as account', async () => {
    const fake = new FakeKeytar();
    const backend = new KeytarSecretBackend({ service: 'cosigner-test', load: () => fake });
    await backend.set('p/signer-key', new Uint8Array([0, 1, 171, 255]));
    expect(fake.items.get('cosigner-test|p/signer-key')).toBe('0001abff');
    expect(await backend.get('p/signer-key')).toEqual(new Uint8Array([0, 1, 171, 255]));
    expect(await backend.delete('p/signer-key')).toBe(true);
    expect(await backend.delete('p/signer-key')).toBe(false);
    expect(backend.service).toBe('cosigner-test');
    expect(new KeytarSecretBackend().service).toBe('cosigner');
  });

  it('a missing item is only reported missing after a write probe proves the keychain usable', async () => {
    const fake = new FakeKeytar();
    const backend = new KeytarSecretBackend({ load: () => fake });
    expect(await backend.get('p/signer-key')).toBeNull();
    expect(fake.log).toEqual(['get cosigner p/signer-key', 'set cosigner .probe', 'delete cosigner .probe', 'get cosigner p/signer-key']);
    expect(fake.items.size).toBe(0);
  });

  it('a locked collection (lookups answer null) is KEYCHAIN_UNAVAILABLE locked, not "no key"', async () => {
    const fake = new FakeKeytar();
    fake.items.set('cosigner|p/signer-key', 'aa');
    fake.locked = true;
    const e = await failure(new KeytarSecretBackend({ load: () => fake }).get('p/signer-key'));
    expect(e.code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(e.context.reason).toBe('locked');
    expect(e.context.hint).toBe(KEYCHAIN_HINTS.locked);
  });

  it('a value Cosigner did not write is CORRUPT_KEY_FILE', async () => {
    const fake = new FakeKeytar();
    fake.items.set('cosigner|p/signer-key', 'not hex!');
    expect((await failure(new KeytarSecretBackend({ load: () => fake }).get('p/signer-key'))).code).toBe('CORRUPT_KEY_FILE');
  });

  it('refuses to store an empty value (keytar would reject it with a confusing message)', async () => {
    const backend = new KeytarSecretBackend({ load: () => new FakeKeytar() });
    expect((await failure(backend.set('p/x', new Uint8Array()))).code).toBe('INVALID_INPUT');
  });

  it('a module that fails to load is KEYCHAIN_UNAVAILABLE module-missing, on every call', async () => {
    const backend = new KeytarSecretBackend({
      load: () => {
        throw new Error("Cannot find module '../build/Release/keytar.node'");
      },
    });
    for (const call of [backend.get('p/a'), backend.set('p/a', new Uint8Array([1])), backend.delete('p/a')]) {
      const e = await failure(call);
      expect(e.code).toBe('KEYCHAIN_UNAVAILABLE');
      expect(e.context).toMatchObject({ reason: 'module-missing', operation: 'load', hint: KEYCHAIN_HINTS['module-missing'] });
    }
  });

  it.each([
    ['Cannot autolaunch D-Bus without X11 $DISPLAY', 'no-session-bus'],
    ['Could not connect: No such file or directory', 'no-session-bus'],
    ['The name org.freedesktop.secrets was not provided by any .service files', 'no-secret-service'],
    ['Object does not exist at path “/org/freedesktop/secrets/collection/login”', 'no-secret-service'],
    ['Cannot create an item in a locked collection', 'locked'],
    ['User interaction is not allowed.', 'locked'],
    ['User canceled the operation.', 'refused'],
    ['Prompt dismissed', 'refused'],
    ['Something else entirely', 'unknown'],
  ])('native failure %j is KEYCHAIN_UNAVAILABLE %s with its hint', async (message, reason) => {
    expect(classifyKeychainFailure(message)).toBe(reason);
    const fake = new FakeKeytar();
    fake.failWith = message;
    const e = await failure(new KeytarSecretBackend({ load: () => fake }).set('p/signer-key', new Uint8Array([1])));
    expect(e.code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(e.context).toMatchObject({ reason, operation: 'set', detail: message });
    expect(typeof e.context.hint === 'string' && e.context.hint.length > 20).toBe(true);
    expect(e.message).toMatch(/^OS keychain unavailable: /);
  });

  it('every hint tells the user something to do', () => {
    for (const hint of Object.values(KEYCHAIN_HINTS)) expect(hint).toMatch(/try again|--keystore file|reinstall/i);
  });
});
