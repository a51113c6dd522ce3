import { describe, expect, it } from 'vitest';
import { equalBytes } from '@noble/curves/utils.js';
import { Delivery } from '../../../main/p2p/delivery.ts';
import type { Attempt } from '../../../main/p2p/delivery.ts';
import { FakeTime } from '../../support/fake-time.ts';
import { seededRandom } from '../../support/random.ts';
import { testSigner } from '../../support/signers.ts';

const bob = testSigner('bob').publicKey;
const carol = testSigner('carol').publicKey;
const meta = (expiresAt: number, sessionId = 'ab') => ({ kind: 'session-message' as const, sessionId, expiresAt });

function setup(attempt: Attempt, opts: { maxQueuePerSigner?: number; maxSigners?: number; maxAgeMs?: number } = {}) {
  const time = new FakeTime();
  const delivery = new Delivery({
    clock: time,
    scheduler: time,
    random: seededRandom('delivery'),
    attempt,
    policy: { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, attemptTimeoutMs: 500 },
    ...opts,
  });
  return { time, delivery };
}

describe('delivery', () => {
  it('resolves once an attempt succeeds', async () => {
    const calls: number[] = [];
    const { delivery } = setup(async (_to, _f, _k, _s, n) => void calls.push(n));
    await delivery.send(bob, new Uint8Array([1]), meta(Number.MAX_SAFE_INTEGER));
    expect(calls).toEqual([1]);
  });

  it('retries with growing, jittered delays until the peer accepts', async () => {
    const times: number[] = [];
    const { time, delivery } = setup(async (_to, _f, _k, _s, n) => {
      times.push(time.now());
      if (n < 4) throw new Error('dial failed');
    });
    const start = time.now();
    let done = false;
    const p = delivery.send(bob, new Uint8Array([1]), meta(start + 60_000)).then(() => (done = true));
    await time.advance(10_000);
    await p;
    expect(done).toBe(true);
    // Three failed, the fourth delivered: the health counter counts the failed ones only.
    expect(delivery.failedAttempts()).toBe(3);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps).toHaveLength(3);
    // equal jitter: each delay lies in [base/2, base] with base 100, 200, 400
    [100, 200, 400].forEach((base, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(base / 2);
      expect(gaps[i]).toBeLessThanOrEqual(base);
    });
  });

  it('gives up at expiresAt with PEER_UNREACHABLE naming the last error', async () => {
    let attempts = 0;
    const { time, delivery } = setup(async () => {
      attempts++;
      throw new Error('no signer card found for this key');
    });
    const expiresAt = time.now() + 5000;
    const p = delivery.send(bob, new Uint8Array([1]), meta(expiresAt, 'cafe'));
    const outcome = p.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await time.advance(4999);
    expect(delivery.pendingCount()).toBe(1);
    await time.advance(1);
    const err = await outcome;
    expect(err).toMatchObject({ code: 'PEER_UNREACHABLE', context: { sessionId: 'cafe', lastError: 'no signer card found for this key' } });
    expect(attempts).toBeGreaterThan(4);
    expect(time.now()).toBe(expiresAt);
    expect(delivery.pendingCount()).toBe(0);
  });

  it('abandons an attempt that hangs, after the attempt timeout', async () => {
    let n = 0;
    const { time, delivery } = setup((_to, _f, _k, signal) => {
      n++;
      if (n > 1) return Promise.resolve();
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    const p = delivery.send(bob, new Uint8Array([1]), meta(time.now() + 60_000));
    await time.advance(2000);
    await expect(p).resolves.toBeUndefined();
    expect(n).toBe(2);
  });

  it('delivers to one signer in order, without blocking other signers', async () => {
    const order: string[] = [];
    let bobUp = false;
    const { time, delivery } = setup(async (to, frame) => {
      const name = equalBytes(to, bob) ? 'bob' : 'carol';
      if (name === 'bob' && !bobUp) throw new Error('bob offline');
      order.push(`${name}:${frame[0]}`);
    });
    const all = [1, 2, 3].map((i) => delivery.send(bob, new Uint8Array([i]), meta(time.now() + 60_000)));
    await delivery.send(carol, new Uint8Array([9]), meta(time.now() + 60_000));
    expect(order).toEqual(['carol:9']);
    bobUp = true;
    delivery.kick(bob);
    await time.advance(0);
    await Promise.all(all);
    expect(order).toEqual(['carol:9', 'bob:1', 'bob:2', 'bob:3']);
  });

  it('bounds the queue per signer and rejects everything on stop', async () => {
    const { time, delivery } = setup(
      async () => {
        throw new Error('offline');
      },
      { maxQueuePerSigner: 2 },
    );
    const a = delivery.send(bob, new Uint8Array([1]), meta(time.now() + 60_000)).catch((e: unknown) => e);
    const b = delivery.send(bob, new Uint8Array([2]), meta(time.now() + 60_000)).catch((e: unknown) => e);
    await expect(delivery.send(bob, new Uint8Array([3]), meta(time.now() + 60_000))).rejects.toMatchObject({ code: 'LIMIT_REACHED' });
    delivery.stop();
    expect(await a).toMatchObject({ code: 'NOT_RUNNING' });
    expect(await b).toMatchObject({ code: 'NOT_RUNNING' });
    expect(time.pendingTimers).toBe(0);
    await expect(delivery.send(bob, new Uint8Array([4]), meta(time.now() + 60_000))).rejects.toMatchObject({ code: 'NOT_RUNNING' });
  });

  it('ages out frames to signers that never answer, whatever expiry they carry: the recipient table cannot be filled for good', async () => {
    const { time, delivery } = setup(
      async () => {
        throw new Error('no signer card found for this key');
      },
      { maxSigners: 2, maxAgeMs: 60_000 },
    );
    const never = Number.MAX_SAFE_INTEGER;
    const stuck = [bob, carol].map((to) => delivery.send(to, new Uint8Array([1]), meta(never)).catch((e: unknown) => e));
    const dave = testSigner('dave').publicKey;
    await expect(delivery.send(dave, new Uint8Array([2]), meta(never))).rejects.toMatchObject({ code: 'LIMIT_REACHED' });
    await time.advance(60_000);
    expect(delivery.pendingSigners()).toEqual([]);
    for (const outcome of await Promise.all(stuck)) expect(outcome).toMatchObject({ code: 'PEER_UNREACHABLE' });
    const later = delivery.send(dave, new Uint8Array([3]), meta(never)).catch((e: unknown) => e);
    expect(delivery.pendingSigners()).toHaveLength(1);
    delivery.stop();
    expect(await later).toMatchObject({ code: 'NOT_RUNNING' });
  });
});
