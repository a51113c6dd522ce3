import { describe, expect, test } from 'vitest';
import type { Health, NodeStatus, SessionSnapshot } from '../../../preload/contract.ts';
import { BridgeError } from '../../../preload/contract-kit.ts';
import { ERROR_CODES } from '../../../main/errors.ts';
import { describeError, wordsFor } from '../../../renderer/src/error-words.ts';
import { mismatchedPositions, typedPhrase } from '../../../renderer/src/lib/backup-check.ts';
import { formatDuration, shortKey } from '../../../renderer/src/lib/format.ts';
import { collectGroupKeys } from '../../../renderer/src/lib/group-keys.ts';
import {
  banOf,
  banReason,
  localProblems,
  phaseSummary,
  rejectedFrames,
  rejectedMessages,
  total,
} from '../../../renderer/src/lib/health.ts';
import {
  blameWords,
  canCancel,
  failureParties,
  offersResume,
  reachedStep,
  sessionExport,
  STUCK_AFTER_MS,
} from '../../../renderer/src/lib/phases.ts';
import { formatRoute, parseRoute } from '../../../renderer/src/lib/routes.ts';

const K1 = '02' + '11'.repeat(32);
const K2 = '03' + '22'.repeat(32);
const K3 = '02' + '33'.repeat(32);
const ID = 'ab'.repeat(32);

function session(
  phase: SessionSnapshot['phase'],
  flags: [boolean, boolean, boolean][],
  extra: Partial<SessionSnapshot> = {},
): SessionSnapshot {
  return {
    sessionId: ID,
    version: 1,
    phase,
    attempt: 1,
    createdAt: 1_000,
    expiresAt: 1_000_000,
    updatedAt: 1_000,
    phaseSince: 1_000,
    creator: K1,
    isCreator: false,
    signers: flags.map(([approved, nonceReceived, partialSignatureReceived], index) => ({
      index,
      publicKey: [K1, K2, K3][index]!,
      isLocal: index === 1,
      approved,
      nonceReceived,
      partialSignatureReceived,
    })),
    messages: [{ hex: '6869', display: 'hi' }],
    payloadKind: 'message',
    description: 'd',
    tweak: 'taproot',
    signingKey: '44'.repeat(32),
    signatures: [],
    failure: null,
    awaitingLocalApproval: false,
    interrupted: false,
    resumable: false,
    ...extra,
  };
}

describe('error words', () => {
  test('every error code the back end has is in plain words (a new code needs words here)', () => {
    const missing = ERROR_CODES.filter((code) => wordsFor(code) === wordsFor('NO_SUCH_CODE'));
    expect(missing).toEqual([]);
  });

  test('a BridgeError is described by its code, with the back end message as detail', () => {
    const view = describeError(new BridgeError({ code: 'EXPIRED', message: 'session 12 expired at 5' }));
    expect(view).toEqual({ words: 'This request has expired.', code: 'EXPIRED', detail: 'session 12 expired at 5' });
  });

  test('unknown codes and foreign errors fall back to a general sentence', () => {
    // A BridgeError's code is typed (preload/error-codes.ts); a session failure code from a remote ABORT is any string.
    expect(wordsFor('NEW_THING')).toMatch(/went wrong/);
    expect(describeError(new TypeError('boom'))).toMatchObject({ code: 'UNKNOWN', detail: 'boom' });
  });

  test('keychain errors carry the hint; backup mismatches name the word', () => {
    const hint = 'Unlock it and try again.';
    expect(wordsFor('KEYCHAIN_UNAVAILABLE', { hint })).toContain(hint);
    expect(wordsFor('CONFIRMATION_MISMATCH', { what: 'backup-words', position: 7 })).toMatch(/Word 7/);
  });
});

describe('phases', () => {
  test('a failed session shows the step it had reached', () => {
    expect(
      reachedStep(
        session('DECLINED', [
          [true, false, false],
          [false, false, false],
          [false, false, false],
        ]),
      ),
    ).toBe('AWAITING_APPROVAL');
    expect(
      reachedStep(
        session('EXPIRED', [
          [true, true, false],
          [true, false, false],
          [true, true, false],
        ]),
      ),
    ).toBe('NONCE_EXCHANGE');
    expect(
      reachedStep(
        session('ABORTED', [
          [true, true, true],
          [true, true, false],
          [true, true, false],
        ]),
      ),
    ).toBe('PARTIAL_SIG_EXCHANGE');
    expect(
      reachedStep(
        session('NONCE_EXCHANGE', [
          [true, false, false],
          [true, false, false],
          [true, false, false],
        ]),
      ),
    ).toBe('NONCE_EXCHANGE');
  });

  test('the local signer may cancel an open session, never an ended one nor one it is not part of', () => {
    const approved: [boolean, boolean, boolean][] = [
      [true, false, false],
      [true, false, false],
      [false, false, false],
    ];
    expect(canCancel(session('AWAITING_APPROVAL', approved))).toBe(true);
    expect(canCancel(session('PARTIAL_SIG_EXCHANGE', approved))).toBe(true);
    for (const ended of ['COMPLETE', 'ABORTED', 'DECLINED', 'EXPIRED'] as const)
      expect(canCancel(session(ended, approved)), ended).toBe(false);
    const onlyOthers = session('NONCE_EXCHANGE', approved);
    expect(canCancel({ ...onlyOthers, signers: onlyOthers.signers.map((x) => ({ ...x, isLocal: false })) })).toBe(false);
  });

  test('starting the exchange again is offered once it is interrupted or has sat at one step too long, never before', () => {
    const all: [boolean, boolean, boolean][] = [
      [true, true, false],
      [true, false, false],
      [true, true, false],
    ];
    const running = session('NONCE_EXCHANGE', all, { resumable: true, phaseSince: 10_000 });
    expect(offersResume(running, 10_000 + STUCK_AFTER_MS - 1)).toBe(false);
    expect(offersResume(running, 10_000 + STUCK_AFTER_MS)).toBe(true);
    expect(offersResume({ ...running, interrupted: true }, 10_000)).toBe(true);
    expect(offersResume({ ...running, resumable: false, interrupted: true }, 10_000 + 10 * STUCK_AFTER_MS)).toBe(false);
  });

  test('blame is worded by what happened', () => {
    expect(blameWords('DECLINED', true).heading).toBe('Declined by');
    expect(blameWords('SESSION_STUCK', true).note).toBe('Did not answer in time');
    expect(blameWords('SESSION_STUCK', true).reporter).toBe('Noticed by');
    expect(blameWords('ABORTED', true).reporter).toBe('Cancelled by');
    expect(blameWords('INVALID_PARTIAL_SIGNATURE', true)).toEqual({
      heading: 'Blamed',
      note: 'Blamed for the failure',
      reporter: 'Reported by',
    });
  });

  test("blame on hearsay: another signer's ABORT is worded as what its reporter says, never as a verdict", () => {
    // Whatever code the ABORT carried, even one this app would give a verdict for.
    for (const code of ['INVALID_PARTIAL_SIGNATURE', 'EQUIVOCATION', 'DECLINED', 'SESSION_STUCK', 'EXPIRED', 'ABORTED', 'SOMETHING_ELSE']) {
      const words = blameWords(code, false);
      for (const text of Object.values(words)) expect(text, code).not.toMatch(/blamed|declined|did not answer/i);
      expect(words.heading, code).toMatch(/^says /);
      expect(words.note, code).toMatch(/^says /);
    }
    const all: [boolean, boolean, boolean][] = [
      [true, true, true],
      [true, true, false],
      [true, true, false],
    ];
    const claim = (blame: number[], reportedBy: number) =>
      session('ABORTED', all, {
        failure: {
          code: 'INVALID_PARTIAL_SIGNATURE',
          reason: 'r',
          blamedSignerIndex: blame[0] ?? null,
          blame,
          reportedBy,
          verified: false,
        },
      });
    // The reporter is who speaks, so it is always named, even when it names only itself.
    expect(failureParties(claim([2], 1))).toMatchObject({ blamed: [{ publicKey: K3 }], reporter: { publicKey: K2 }, claim: true });
    expect(failureParties(claim([1], 1))).toMatchObject({ blamed: [{ publicKey: K2 }], reporter: { publicKey: K2 }, claim: true });
  });

  test('a failure names every blamed signer and who reported it', () => {
    const all: [boolean, boolean, boolean][] = [
      [true, true, true],
      [true, true, false],
      [true, true, false],
    ];
    const failed = (blame: number[], reportedBy: number) =>
      session('ABORTED', all, {
        failure: { code: 'SESSION_STUCK', reason: 'r', blamedSignerIndex: blame[0] ?? null, blame, reportedBy, verified: true },
      });

    const stuck = failureParties(failed([2, 0], 1));
    expect(stuck.blamed.map((s) => s.publicKey)).toEqual([K3, K1]);
    expect(stuck.reporter?.publicKey).toBe(K2);
    // Nobody blamed (a user cancelled): only who ended it.
    expect(failureParties(failed([], 0))).toMatchObject({ blamed: [], reporter: { publicKey: K1 } });
    // Whoever declines reports their own decline: said once.
    expect(failureParties(failed([2], 2))).toMatchObject({ blamed: [{ publicKey: K3 }], reporter: undefined });
    // An index the session does not have is not invented into a signer.
    expect(failureParties(failed([7, 1], 0)).blamed.map((s) => s.index)).toEqual([1]);
    expect(failureParties(session('COMPLETE', all))).toEqual({ blamed: [], reporter: undefined, claim: false });
  });

  test('the export holds what a verifier needs', () => {
    const bip322 = { address: 'bc1p' + 'q'.repeat(58), digests: ['66'.repeat(32)], signatures: ['AUBV' + 'VVVV'.repeat(20)] };
    const done = session(
      'COMPLETE',
      [
        [true, true, true],
        [true, true, true],
        [true, true, true],
      ],
      { signatures: ['55'.repeat(64)], bip322 },
    );
    expect(JSON.parse(sessionExport(done))).toMatchObject({
      sessionId: ID,
      messages: [{ hex: '6869', display: 'hi' }],
      signingKey: '44'.repeat(32),
      signatures: ['55'.repeat(64)],
      bip322,
      signers: [K1, K2, K3],
    });
  });
});

describe('health counters', () => {
  const node = {
    rejectedFrames: { oversized: 0, malformed: 2, 'rate-limited': 5, 'some-new-reason': 1 },
    dhtStore: { records: 0, bytes: 0, rollbacksRefused: 1 },
    transport: { inboxPublishFailures: 3 },
  } as unknown as NodeStatus;
  const coordinator = {
    rejectedMessages: { REPLAYED: 4, BAD_SIGNATURE: 0, NEW_CODE: 2 },
    sendFailures: 1,
    storageFailures: 0,
    corruptRecords: 0,
    listenerErrors: 0,
  } as unknown as Health['coordinator'];

  test('refusals are listed by reason in words, most frequent first, zeros left out, unknown reasons by their name', () => {
    expect(rejectedFrames(node)).toEqual([
      { key: 'rate-limited', label: 'Too many at once from one peer', count: 5 },
      { key: 'malformed', label: 'Unreadable', count: 2 },
      { key: 'dht-rollback', label: 'DHT records older than the ones kept', count: 1 },
      { key: 'some-new-reason', label: 'some-new-reason', count: 1 },
    ]);
    expect(rejectedMessages(coordinator).map((r) => [r.label, r.count])).toEqual([
      ['Received twice', 4],
      ['NEW_CODE', 2],
    ]);
    expect(total(rejectedFrames(node))).toBe(9);
  });

  test("a co-signer's ban is found by its signer key and explained by the frames that earned it", () => {
    const key = '02' + 'ab'.repeat(32);
    const ban = { peerId: '12D3KooWbanned', until: 1_000, reasons: { timeout: 3, malformed: 7 }, signers: [key] };
    const banned = { ...node, bans: [ban] } as NodeStatus;
    expect(banOf(banned, key)).toBe(ban);
    expect(banOf(banned, '03' + 'ab'.repeat(32))).toBeUndefined();
    expect(banOf(undefined, key)).toBeUndefined();
    expect(banReason(ban)).toBe('7 unreadable, 3 too slow to arrive');
  });

  test('sessions by phase read as two phrases, open and ended, in the order of the steps', () => {
    expect(phaseSummary({ COMPLETE: 2, NONCE_EXCHANGE: 1, AWAITING_APPROVAL: 3, DECLINED: 0, EXPIRED: 1 })).toEqual({
      open: '3 awaiting approval, 1 exchanging nonces',
      ended: '2 signed, 1 expired',
    });
    expect(phaseSummary({})).toEqual({ open: '', ended: '' });
  });

  test('local problems are listed only when they happened', () => {
    expect(localProblems(node, coordinator).map((r) => [r.key, r.count])).toEqual([
      ['sendFailures', 1],
      ['inboxPublishFailures', 3],
    ]);
    expect(localProblems(undefined, undefined)).toEqual([]);
  });
});

describe('routes', () => {
  test('the view sits next to the token and both survive a round trip', () => {
    const hash = formatRoute({ name: 'session', id: ID }, '#token=abc-_123');
    expect(hash).toBe(`#token=abc-_123&view=session/${ID}`);
    expect(new URLSearchParams(hash.slice(1)).get('token')).toBe('abc-_123');
    expect(parseRoute(hash)).toEqual({ name: 'session', id: ID });
    expect(parseRoute(formatRoute({ name: 'new', groupId: ID }, hash))).toEqual({ name: 'new', groupId: ID });
    expect(formatRoute({ name: 'home' }, '')).toBe('#view=home');
  });

  test('anything unknown or malformed is home', () => {
    expect(parseRoute('')).toEqual({ name: 'home' });
    expect(parseRoute('#view=session/not-an-id')).toEqual({ name: 'home' });
    expect(parseRoute('#view=../../etc')).toEqual({ name: 'home' });
    expect(parseRoute('#view=history')).toEqual({ name: 'history' });
  });
});

describe('backup check', () => {
  const words = ['abandon', 'ability', 'able'];
  test('points at every wrong or missing word, ignoring case and spaces', () => {
    expect(mismatchedPositions([' Abandon ', 'abilty', ''], words)).toEqual([2, 3]);
    expect(mismatchedPositions(['abandon', 'ABILITY', 'able'], words)).toEqual([]);
  });
  test('sends the phrase as typed, normalized', () => {
    expect(typedPhrase([' Abandon', 'ability ', 'ABLE'])).toBe('abandon ability able');
  });
});

describe('group keys', () => {
  test('chosen and pasted keys, without repeats; anything else is reported', () => {
    const got = collectGroupKeys([K1], `${K2.toUpperCase()}\n\n${K1}, nonsense; ${K3}`);
    expect(got.keys).toEqual([K1, K2, K3]);
    expect(got.invalid).toEqual(['nonsense']);
  });
});

describe('format', () => {
  test('durations and short keys', () => {
    expect(formatDuration(-5)).toBe('0 s');
    expect(formatDuration(65_000)).toBe('1 min 5 s');
    expect(formatDuration(3 * 3600_000 + 5 * 60_000)).toBe('3 h 5 min');
    expect(formatDuration(2 * 86_400_000)).toBe('2 d');
    expect(shortKey(K1)).toBe('021111…1111');
  });
});
