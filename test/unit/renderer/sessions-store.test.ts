import { readFileSync } from 'node:fs';
import { flushSync } from 'svelte';
import { beforeEach, describe, expect, test } from 'vitest';
import { SessionSnapshot } from '../../../preload/contract.ts';
import { MAX_SESSIONS, SessionsStore } from '../../../renderer/src/stores/sessions.svelte.ts';
import { deferred, FakeBackEnd, settle } from './fake-bridge.ts';
import { NEEDS_SVELTE, runesCompiled } from './runes-probe.svelte.ts';
import { gate } from '../../support/prerequisites.ts';

interface Arrival {
  note?: string;
  event?: 'session';
  payload?: unknown;
  listReply?: unknown[];
}
interface Fixture {
  localKey: string;
  keys: Record<'alice' | 'bob' | 'carol' | 'dave', string>;
  sessionIds: Record<'A' | 'B' | 'C', string>;
  arrivals: Arrival[];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/session-stream.json', import.meta.url), 'utf8')) as Fixture;
const { A, B, C } = fixture.sessionIds;
const needs = gate({ 'svelte-runes': runesCompiled() ? undefined : NEEDS_SVELTE });

/** Starts a store whose `sessions.list` reply is held until the fixture's listReply arrival. */
function started() {
  const backEnd = new FakeBackEnd();
  const list = deferred<unknown[]>();
  backEnd.on('sessions.list', () => list.promise);
  const store = new SessionsStore(backEnd.bridge);
  const stop = store.start();
  return { backEnd, store, list, stop };
}

/** Plays the fixture's arrivals from index `start` up to (not including) index `end`. */
async function play(backEnd: FakeBackEnd, list: { resolve(v: unknown[]): void }, end = fixture.arrivals.length, start = 0) {
  for (const arrival of fixture.arrivals.slice(start, end)) {
    if (arrival.listReply) list.resolve(arrival.listReply);
    else backEnd.emit('session', arrival.payload);
    await settle();
  }
  flushSync();
}

function indexOfNote(prefix: string): number {
  const i = fixture.arrivals.findIndex((a) => a.note?.startsWith(prefix));
  if (i < 0) throw new Error(`fixture has no arrival noted "${prefix}"`);
  return i;
}

describe('the recorded stream', () => {
  test('is inside the contract', () => {
    for (const arrival of fixture.arrivals) {
      for (const payload of arrival.listReply ?? [arrival.payload]) expect(SessionSnapshot.safeParse(payload).success).toBe(true);
    }
  });
});

describe('SessionsStore over the recorded stream', () => {
  beforeEach((ctx) => {
    if (needs.skip !== undefined) ctx.skip(needs.skip);
    needs.assert();
  });

  test('subscribes to session events before it asks for the list', () => {
    const { backEnd } = started();
    expect(backEnd.log).toEqual(['subscribe:session', 'call:sessions.list']);
  });

  test('an event that arrives between subscribing and the list reply is kept; the older list entry is dropped', async () => {
    const { backEnd, store, list } = started();
    await play(backEnd, list, indexOfNote('the list was computed') + 1);

    expect(store.loaded).toBe(true);
    const a = store.get(A)!;
    expect(a.version).toBe(3);
    expect(
      a.signers
        .filter((s) => s.approved)
        .map((s) => s.publicKey)
        .sort(),
    ).toEqual([fixture.keys.bob, fixture.keys.carol].sort());
    // The list still brings what only it knew.
    expect(store.get(B)?.phase).toBe('COMPLETE');
    expect(store.all.map((s) => s.sessionId)).toEqual([A, B]);
    expect(store.pending.map((s) => s.sessionId)).toEqual([A]);
  });

  test('ends where the back end ended: A signed, C declined, stale and duplicate updates ignored', async () => {
    const { backEnd, store, list } = started();
    await play(backEnd, list);

    const a = store.get(A)!;
    expect(a.phase).toBe('COMPLETE');
    expect(a.version).toBe(9);
    expect(a.signatures).toHaveLength(1);
    expect(a.signers.every((s) => s.approved && s.nonceReceived && s.partialSignatureReceived)).toBe(true);

    const c = store.get(C)!;
    expect(c.phase).toBe('DECLINED');
    expect(c.failure?.reason).toBe('I do not know Dave');

    expect(store.pending).toEqual([]);
    // Newest first: C was asked a minute after A; B a day before.
    expect(store.all.map((s) => s.sessionId)).toEqual([C, A, B]);
  });

  test('never goes backwards: each stale arrival is refused and leaves the state as it was', async () => {
    const { backEnd, store, list } = started();
    const stale = [indexOfNote('stale: v5'), indexOfNote('stale: v6'), indexOfNote('duplicate of the decline')];
    let played = 0;
    for (const i of stale) {
      await play(backEnd, list, i, played);
      played = i;
      const before = store.get((fixture.arrivals[i]!.payload as { sessionId: string }).sessionId);
      expect(store.apply(SessionSnapshot.parse(fixture.arrivals[i]!.payload))).toBe(false);
      expect(store.get(before!.sessionId)).toBe(before);
    }
  });

  test('pending follows the stream: A and C wait for the local user, then neither does', async () => {
    const { backEnd, store, list } = started();
    await play(backEnd, list, indexOfNote('Dave asks') + 1);
    // Oldest first (closest to expiry at the top): A was asked before C.
    expect(store.pending.map((s) => s.sessionId)).toEqual([A, C]);
    await play(backEnd, list, indexOfNote('local approval of A') + 1, indexOfNote('Dave asks') + 1);
    expect(store.pending.map((s) => s.sessionId)).toEqual([C]);
  });

  test("an action's reply older than an event already received does not undo the event", async () => {
    const { backEnd, store, list } = started();
    await play(backEnd, list, indexOfNote('local approval of A'));
    const approved = fixture.arrivals[indexOfNote('local approval of A')]!.payload;
    const reply = deferred<unknown>();
    backEnd.on('sessions.approve', () => reply.promise);

    const approving = store.approve(A);
    // The nonce exchange starts (v5) before the approve call's own reply (v4) comes back.
    backEnd.emit('session', fixture.arrivals[indexOfNote('local approval of A') + 1]!.payload);
    reply.resolve(approved);
    const result = await approving;

    expect(result.version).toBe(5);
    expect(store.get(A)?.phase).toBe('NONCE_EXCHANGE');
    expect(backEnd.log).toContain('call:sessions.approve');
  });

  test('a failed list load is reported, and a later reload recovers', async () => {
    const backEnd = new FakeBackEnd();
    backEnd.on('sessions.list', () => {
      throw { code: 'NOT_RUNNING', message: 'not connected' };
    });
    const store = new SessionsStore(backEnd.bridge);
    store.start();
    await settle();
    expect((store.error as { code?: string }).code).toBe('NOT_RUNNING');
    expect(store.loaded).toBe(false);

    backEnd.on('sessions.list', () => fixture.arrivals.find((a) => a.listReply)!.listReply);
    await store.reload();
    expect(store.error).toBeNull();
    expect(store.loaded).toBe(true);
    expect(store.all).toHaveLength(2);
  });

  test('events that break the contract never reach the store', async () => {
    const { backEnd, store, list } = started();
    list.resolve([]);
    await settle();
    backEnd.emit('session', { sessionId: 'not hex', version: 1 });
    backEnd.emit('session', { ...(fixture.arrivals[0]!.payload as object), version: -1 });
    expect(store.all).toEqual([]);
  });

  test('stop unsubscribes', () => {
    const { backEnd, stop } = started();
    expect(backEnd.listenerCount('session')).toBe(1);
    stop();
    expect(backEnd.listenerCount('session')).toBe(0);
  });

  test("pending is what the back end flags as awaiting this user's decision, not a guess from the signer list", () => {
    const store = new SessionsStore(new FakeBackEnd().bridge);
    const asked = SessionSnapshot.parse(fixture.arrivals[indexOfNote('Dave asks')]!.payload);
    expect(asked.awaitingLocalApproval).toBe(true);
    store.apply(asked);
    flushSync();
    expect(store.pending.map((s) => s.sessionId)).toEqual([C]);

    // The local signer's row still says "not approved", but the back end says the decision is made.
    store.apply({ ...asked, version: asked.version + 1, awaitingLocalApproval: false });
    flushSync();
    expect(store.pending).toEqual([]);

    // And the other way round: the flag alone puts a request in the list.
    const a = SessionSnapshot.parse(fixture.arrivals[indexOfNote('local approval of A')]!.payload);
    store.apply({ ...a, awaitingLocalApproval: true });
    flushSync();
    expect(store.pending.map((s) => s.sessionId)).toEqual([A]);
  });

  test('interrupted lists the resumable exchanges this computer cannot continue, oldest first', () => {
    const store = new SessionsStore(new FakeBackEnd().bridge);
    const exchange = SessionSnapshot.parse(fixture.arrivals[indexOfNote('local approval of A') + 1]!.payload);
    expect(exchange.phase).toBe('NONCE_EXCHANGE');
    store.apply({ ...exchange, interrupted: true, resumable: true });
    store.apply({ ...exchange, sessionId: C, createdAt: exchange.createdAt + 1, interrupted: true, resumable: false });
    store.apply({ ...exchange, sessionId: B, createdAt: exchange.createdAt - 1, interrupted: false, resumable: true });
    flushSync();
    expect(store.interrupted.map((s) => s.sessionId)).toEqual([A]);

    store.apply({ ...exchange, version: exchange.version + 1, attempt: exchange.attempt + 1, interrupted: false, resumable: true });
    flushSync();
    expect(store.interrupted).toEqual([]);
  });

  test('cancelling sends the reason and keeps the ended session the back end returns', async () => {
    const { backEnd, store, list } = started();
    await play(backEnd, list, indexOfNote('local approval of A') + 2);
    const before = store.get(A)!;
    let sent: unknown;
    backEnd.on('sessions.abort', (args) => {
      sent = args;
      return {
        ...before,
        version: before.version + 1,
        phase: 'ABORTED',
        resumable: false,
        awaitingLocalApproval: false,
        failure: { code: 'ABORTED', reason: 'wrong amount', blamedSignerIndex: null, blame: [], reportedBy: 0, verified: true },
      };
    });
    const ended = await store.abort(A, 'wrong amount');
    expect(sent).toEqual({ sessionId: A, reason: 'wrong amount' });
    expect(ended.phase).toBe('ABORTED');
    expect(store.get(A)?.failure?.reportedBy).toBe(0);
  });

  test(`holds at most ${MAX_SESSIONS} sessions, forgetting the oldest finished ones first`, () => {
    const backEnd = new FakeBackEnd();
    const store = new SessionsStore(backEnd.bridge);
    const template = SessionSnapshot.parse(fixture.arrivals[fixture.arrivals.length - 1]!.payload);
    const idOf = (n: number) => n.toString(16).padStart(64, '0');
    const pendingOld = { ...SessionSnapshot.parse(fixture.arrivals[0]!.payload), sessionId: idOf(0), createdAt: 0 };
    store.apply(pendingOld);
    for (let n = 1; n <= MAX_SESSIONS + 5; n++) store.apply({ ...template, sessionId: idOf(n), createdAt: n });

    expect(store.all).toHaveLength(MAX_SESSIONS);
    // 1 + 1005 were applied: the oldest is kept because it is not finished, the six oldest finished ones are gone.
    expect(store.get(idOf(0))).toBeDefined();
    for (let n = 1; n <= 6; n++) expect(store.get(idOf(n))).toBeUndefined();
    expect(store.get(idOf(7))).toBeDefined();
  });
});
