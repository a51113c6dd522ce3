import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { CosignerError } from '../../../main/errors.ts';
import { KEYCHAIN_TIMEOUT_HINT } from '../../../main/keys/keychain-errors.ts';
import { type KeyEvent, KeyManager } from '../../../main/keys/key-manager.ts';
import { DEFAULT_KEYCHAIN_TIMEOUT_MS, type KeytarApi, KeytarSecretBackend } from '../../../main/keys/keytar-backend.ts';
import { FakeTime } from '../../support/fake-time.ts';
import { expectNoSecrets, failure } from '../../support/keys.ts';
import { seededRandom } from '../../support/random.ts';

const TIMEOUT = 5_000;
const SECRET = new Uint8Array([7, 7, 7, 7, 0xa5, 0x5a]);

/**
 * A keytar stand-in whose calls can be held: a held call neither resolves nor rejects until
 * release(), as a call into a hung Secret Service or behind an unanswered unlock prompt does.
 */
class GatedKeytar implements KeytarApi {
  readonly items = new Map<string, string>();
  readonly log: string[] = [];
  /** Calls whose label (e.g. 'set alice/signer-key') matches are held. */
  hold: RegExp | null = null;
  /** Held calls fail with this native message when released. */
  failOnRelease: string | null = null;
  readonly #held: (() => void)[] = [];

  getPassword(service: string, account: string): Promise<string | null> {
    return this.#run(`get ${account}`, () => this.items.get(`${service}|${account}`) ?? null);
  }

  setPassword(service: string, account: string, password: string): Promise<void> {
    return this.#run(`set ${account}`, () => void this.items.set(`${service}|${account}`, password));
  }

  deletePassword(service: string, account: string): Promise<boolean> {
    return this.#run(`delete ${account}`, () => this.items.delete(`${service}|${account}`));
  }

  get heldCalls(): number {
    return this.#held.length;
  }

  release(): void {
    for (const go of this.#held.splice(0)) go();
  }

  /** Lets only the oldest held call answer. */
  releaseOldest(): void {
    this.#held.shift()?.();
  }

  async #run<T>(label: string, operation: () => T): Promise<T> {
    this.log.push(label);
    if (this.hold?.test(label)) {
      await new Promise<void>((resolve) => this.#held.push(resolve));
      if (this.failOnRelease !== null) throw new Error(this.failOnRelease);
    }
    return operation();
  }
}

/** A promise's outcome so far, observed without leaving a rejection unhandled. */
function watch<T>(promise: Promise<T>): { settled: boolean; value?: T; error?: unknown } {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/** `timeoutMs: null` leaves the default. */
function setup(timeoutMs: number | null = TIMEOUT) {
  const time = new FakeTime();
  const keytar = new GatedKeytar();
  const backend = new KeytarSecretBackend({ load: () => keytar, scheduler: time, ...(timeoutMs === null ? {} : { timeoutMs }) });
  return { time, keytar, backend };
}

const OPERATIONS: Readonly<Record<'get' | 'set' | 'delete', (b: KeytarSecretBackend) => Promise<unknown>>> = {
  get: (b) => b.get('p/signer-key'),
  set: (b) => b.set('p/signer-key', SECRET),
  delete: (b) => b.delete('p/signer-key'),
};

describe('KeytarSecretBackend: every keytar call is bounded by a timeout', () => {
  it.each(Object.keys(OPERATIONS) as (keyof typeof OPERATIONS)[])(
    '%s against a keychain that never answers fails with KEYCHAIN_TIMEOUT at the timeout, and no timer remains',
    async (name) => {
      const { time, keytar, backend } = setup();
      keytar.hold = /./;
      const outcome = watch(OPERATIONS[name](backend));
      await time.advance(TIMEOUT - 1);
      expect(outcome.settled).toBe(false);
      expect(time.pendingTimers).toBe(1);
      await time.advance(1);
      expect(outcome.settled).toBe(true);
      const e = outcome.error as CosignerError;
      expect(e).toBeInstanceOf(CosignerError);
      expect(e.code).toBe('KEYCHAIN_TIMEOUT');
      expect(e.message).toBe('OS keychain did not answer within 5 s');
      expect(e.context).toEqual({ hint: KEYCHAIN_TIMEOUT_HINT, operation: name, timeoutMs: TIMEOUT, earlierPending: false });
      expectNoSecrets([e], { bytes: [SECRET] });
      expect(JSON.stringify(e)).not.toContain(bytesToHex(SECRET));
      expect(time.pendingTimers).toBe(0);
      expect(keytar.heldCalls).toBe(1);
    },
  );

  it('the hint says what to do: unlock the keychain, check the Secret Service, or use the key file', () => {
    expect(KEYCHAIN_TIMEOUT_HINT).toMatch(/unlock it and try again/);
    expect(KEYCHAIN_TIMEOUT_HINT).toMatch(/Secret Service/);
    expect(KEYCHAIN_TIMEOUT_HINT).toMatch(/--keystore file/);
  });

  it('a get whose write probe hangs (an unlock prompt nobody answers) times out too', async () => {
    const { time, keytar, backend } = setup();
    const outcome = watch(backend.get('p/signer-key'));
    await time.advance(0);
    expect(keytar.log).toEqual(['get p/signer-key', 'set .probe', 'delete .probe', 'get p/signer-key']);
    expect(outcome).toEqual({ settled: true, value: null });

    keytar.hold = /./;
    const locked = watch(new KeytarSecretBackend({ load: () => keytar, scheduler: time, timeoutMs: TIMEOUT }).get('p/signer-key'));
    await time.advance(0);
    keytar.release(); // the lookup answers "nothing there", as a locked collection's does
    await time.advance(0);
    expect(keytar.log.slice(4)).toEqual(['get p/signer-key', 'set .probe']);
    await time.advance(TIMEOUT);
    expect((locked.error as CosignerError).context).toMatchObject({ operation: 'probe' });
    expect((locked.error as CosignerError).code).toBe('KEYCHAIN_TIMEOUT');
    expect(time.pendingTimers).toBe(0);
  });

  it('answers pass through unchanged and each call clears its timer', async () => {
    const { time, keytar, backend } = setup();
    await backend.set('p/signer-key', SECRET);
    expect(time.pendingTimers).toBe(0);
    expect(keytar.items.get('cosigner|p/signer-key')).toBe(bytesToHex(SECRET));
    expect(await backend.get('p/signer-key')).toEqual(SECRET);
    expect(time.pendingTimers).toBe(0);
    expect(await backend.delete('p/signer-key')).toBe(true);
    expect(await backend.delete('p/signer-key')).toBe(false);
    expect(await backend.get('p/signer-key')).toBeNull();
    expect(time.pendingTimers).toBe(0);
    // Nothing left to fire later either.
    await time.advance(10 * TIMEOUT);
    expect(time.nextAt()).toBeUndefined();
  });

  it('a native failure is still KEYCHAIN_UNAVAILABLE, and clears its timer', async () => {
    const { time, keytar, backend } = setup();
    keytar.hold = /./;
    keytar.failOnRelease = 'Cannot create an item in a locked collection';
    const outcome = watch(backend.set('p/signer-key', SECRET));
    await time.advance(TIMEOUT - 1);
    keytar.release();
    await time.advance(0);
    expect((outcome.error as CosignerError).code).toBe('KEYCHAIN_UNAVAILABLE');
    expect((outcome.error as CosignerError).context).toMatchObject({ reason: 'locked', operation: 'set' });
    expect(time.pendingTimers).toBe(0);
  });

  it('keytar throwing synchronously (its argument checks) is KEYCHAIN_UNAVAILABLE, with no timer left', async () => {
    const time = new FakeTime();
    const throwing: KeytarApi = {
      getPassword: () => {
        throw new Error('Account is required.');
      },
      setPassword: () => Promise.resolve(),
      deletePassword: () => Promise.resolve(false),
    };
    const e = await failure(new KeytarSecretBackend({ load: () => throwing, scheduler: time }).get('p/x'));
    expect(e.code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(e.context).toMatchObject({ operation: 'get', detail: 'Account is required.' });
    expect(time.pendingTimers).toBe(0);
  });

  it('while a timed-out call is still out, later calls fail at once without reaching keytar; once it comes back they work', async () => {
    const { time, keytar, backend } = setup();
    keytar.hold = /./;
    const first = watch(backend.set('p/signer-key', SECRET));
    await time.advance(TIMEOUT);
    expect((first.error as CosignerError).code).toBe('KEYCHAIN_TIMEOUT');

    keytar.hold = null;
    for (const [name, operation] of Object.entries(OPERATIONS)) {
      const e = await failure(operation(backend));
      expect(e.code).toBe('KEYCHAIN_TIMEOUT');
      expect(e.context).toMatchObject({ operation: name, earlierPending: true, hint: KEYCHAIN_TIMEOUT_HINT });
      expect(e.message).toBe('OS keychain did not answer: an earlier request is still waiting for it');
    }
    expect(keytar.log).toEqual(['set p/signer-key']);
    expect(time.pendingTimers).toBe(0);

    // The user answers the prompt: the abandoned write lands (the value it was given), and the
    // keychain is usable again.
    keytar.release();
    await time.advance(0);
    expect(keytar.items.get('cosigner|p/signer-key')).toBe(bytesToHex(SECRET));
    expect(first.error).toBeInstanceOf(CosignerError); // the caller's answer does not change
    expect(await backend.get('p/signer-key')).toEqual(SECRET);
    expect(time.pendingTimers).toBe(0);
  });

  it('two calls that time out together: the keychain stays refused until both have come back', async () => {
    const { time, keytar, backend } = setup();
    keytar.hold = /./;
    const write = watch(backend.set('p/signer-key', SECRET));
    const read = watch(backend.get('p/peer-identity'));
    await time.advance(TIMEOUT);
    expect([(write.error as CosignerError).code, (read.error as CosignerError).code]).toEqual(['KEYCHAIN_TIMEOUT', 'KEYCHAIN_TIMEOUT']);
    keytar.hold = null;
    keytar.releaseOldest();
    await time.advance(0);
    expect((await failure(backend.get('p/signer-key'))).context).toMatchObject({ earlierPending: true });
    keytar.releaseOldest();
    await time.advance(0);
    expect(await backend.get('p/signer-key')).toEqual(SECRET);
  });

  it('an abandoned call that fails late frees the keychain too, with nothing unhandled', async () => {
    const { time, keytar, backend } = setup();
    keytar.hold = /./;
    keytar.failOnRelease = 'Prompt dismissed';
    const first = watch(backend.delete('p/signer-key'));
    await time.advance(TIMEOUT);
    expect((first.error as CosignerError).code).toBe('KEYCHAIN_TIMEOUT');
    keytar.release();
    await time.advance(0);
    keytar.hold = null;
    keytar.failOnRelease = null;
    expect(await backend.delete('p/signer-key')).toBe(false);
  });

  it(`the default timeout is ${DEFAULT_KEYCHAIN_TIMEOUT_MS / 1000} s; a timeout that is not positive is refused`, async () => {
    const { time, keytar, backend } = setup(null);
    keytar.hold = /./;
    const outcome = watch(backend.get('p/signer-key'));
    await time.advance(DEFAULT_KEYCHAIN_TIMEOUT_MS - 1);
    expect(outcome.settled).toBe(false);
    await time.advance(1);
    expect((outcome.error as CosignerError).context).toMatchObject({ timeoutMs: DEFAULT_KEYCHAIN_TIMEOUT_MS });
    for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new KeytarSecretBackend({ timeoutMs })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
  });
});

describe('KeyManager over a keychain that times out: nothing is lost', () => {
  function managerSetup() {
    const { time, keytar, backend } = setup();
    const events: KeyEvent[] = [];
    const manager = new KeyManager({ backend, profile: 'alice', random: seededRandom('timeout'), onEvent: (e) => events.push(e) });
    return { time, keytar, manager, events };
  }

  /** Creates a key up to the confirmation, whose write is made to time out. */
  async function timedOutConfirmation(env: ReturnType<typeof managerSetup>) {
    const pending = await env.manager.beginCreate();
    const words = pending.words().join(' ');
    env.keytar.hold = /^set alice\/signer-key$/;
    const confirmed = watch(env.manager.confirmBackup(pending.id, words));
    await env.time.advance(TIMEOUT);
    const e = confirmed.error as CosignerError;
    expect(e.code).toBe('KEYCHAIN_TIMEOUT');
    expect(e.context.operation).toBe('set');
    return { pending, words };
  }

  it('a confirmation whose write times out reports the error, not a stored key, and keeps the pending key', async () => {
    const env = managerSetup();
    const { pending, words } = await timedOutConfirmation(env);
    expect(env.events).toEqual([]);
    expect(env.keytar.log.at(-1)).toBe('set alice/signer-key');

    // The write never lands (the prompt is dismissed): the same words can be confirmed again.
    env.keytar.failOnRelease = 'Prompt dismissed';
    env.keytar.release();
    await env.time.advance(0);
    env.keytar.hold = null;
    const info = await env.manager.confirmBackup(pending.id, words);
    expect(info).toMatchObject({ publicKey: pending.publicKey, origin: 'generated' });
    expect(env.events).toEqual([{ type: 'signer-key-stored', profile: 'alice', backend: 'keychain', ...info }]);
    expect(await env.manager.info()).toEqual(info);
    expect(env.time.pendingTimers).toBe(0);
  });

  it('a write that lands after its timeout is recognised on the retry: the key is reported stored, not KEY_EXISTS', async () => {
    const env = managerSetup();
    const { pending, words } = await timedOutConfirmation(env);
    env.keytar.release(); // the user answers the prompt late
    await env.time.advance(0);
    env.keytar.hold = null;
    expect(env.events).toEqual([]);
    const info = await env.manager.confirmBackup(pending.id, words);
    expect(info).toMatchObject({ publicKey: pending.publicKey, fingerprint: pending.fingerprint, origin: 'generated' });
    expect(env.events).toEqual([{ type: 'signer-key-stored', profile: 'alice', backend: 'keychain', ...info }]);
    // The pending key is done with.
    expect((await failure(env.manager.confirmBackup(pending.id, words))).code).toBe('INVALID_INPUT');
  });

  it('a retry before the late write comes back fails at once and keeps the pending key', async () => {
    const env = managerSetup();
    const { pending, words } = await timedOutConfirmation(env);
    env.keytar.hold = null;
    const e = await failure(env.manager.confirmBackup(pending.id, words));
    expect(e.code).toBe('KEYCHAIN_TIMEOUT');
    expect(e.context.earlierPending).toBe(true);
    env.keytar.release();
    await env.time.advance(0);
    await expect(env.manager.confirmBackup(pending.id, words)).resolves.toMatchObject({ publicKey: pending.publicKey });
  });

  it('a late write of one key never lets a different key be stored over it', async () => {
    const env = managerSetup();
    env.keytar.hold = /^set alice\/signer-key$/;
    const imported = watch(env.manager.importSecretHex('11'.repeat(32)));
    await env.time.advance(TIMEOUT);
    expect((imported.error as CosignerError).code).toBe('KEYCHAIN_TIMEOUT');
    env.keytar.release();
    await env.time.advance(0);
    env.keytar.hold = null;
    const e = await failure(env.manager.importSecretHex('22'.repeat(32)));
    expect(e.code).toBe('KEY_EXISTS');
    // The same key again is the retry of the write that landed.
    await expect(env.manager.importSecretHex('11'.repeat(32))).resolves.toMatchObject({ origin: 'raw' });
    // Only once: a later import of the key already stored is KEY_EXISTS as always.
    expect((await failure(env.manager.importSecretHex('11'.repeat(32)))).code).toBe('KEY_EXISTS');
    expect(env.events.map((event) => event.type)).toEqual(['signer-key-stored']);
  });

  it('a peer identity whose write times out is not handed out; once the write lands it is the one read', async () => {
    const env = managerSetup();
    env.keytar.hold = /^set alice\/peer-identity$/;
    const created = watch(env.manager.peerIdentity());
    await env.time.advance(TIMEOUT);
    expect((created.error as CosignerError).code).toBe('KEYCHAIN_TIMEOUT');
    expect(env.events).toEqual([]);
    env.keytar.release();
    await env.time.advance(0);
    env.keytar.hold = null;
    const stored = env.keytar.items.get('cosigner|alice/peer-identity');
    expect(stored).toBeDefined();
    const identity = await env.manager.peerIdentity();
    expect(env.keytar.log.filter((call) => call === 'set alice/peer-identity')).toHaveLength(1);
    expect(env.keytar.items.get('cosigner|alice/peer-identity')).toBe(stored);
    expect(identity.peerId).toMatch(/^12D3KooW/);
    expect(env.time.pendingTimers).toBe(0);
  });
});
