import { describe, expect, test } from 'vitest';
import type { SessionSnapshot } from '../../../preload/contract.ts';
import { BridgeError } from '../../../preload/contract-kit.ts';
import { ERROR_CODES } from '../../../main/errors.ts';
import { describeError, wordsFor } from '../../../renderer/src/error-words.ts';
import { mismatchedPositions, typedPhrase } from '../../../renderer/src/lib/backup-check.ts';
import { formatDuration, shortKey } from '../../../renderer/src/lib/format.ts';
import { collectGroupKeys } from '../../../renderer/src/lib/group-keys.ts';
import { awaitsMyApproval, blameWords, canResume, reachedStep, RESUME_AFTER_MS, sessionExport } from '../../../renderer/src/lib/phases.ts';
import { formatRoute, parseRoute } from '../../../renderer/src/lib/routes.ts';

const K1 = '02' + '11'.repeat(32);
const K2 = '03' + '22'.repeat(32);
const K3 = '02' + '33'.repeat(32);
const ID = 'ab'.repeat(32);

function session(phase: SessionSnapshot['phase'], flags: [boolean, boolean, boolean][], extra: Partial<SessionSnapshot> = {}): SessionSnapshot {
  return {
    sessionId: ID,
    version: 1,
    phase,
    attempt: 1,
    createdAt: 1_000,
    expiresAt: 1_000_000,
    updatedAt: 1_000,
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
    description: 'd',
    tweak: 'taproot',
    signingKey: '44'.repeat(32),
    signatures: [],
    failure: null,
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
    expect(describeError(new BridgeError({ code: 'NEW_THING', message: 'x' })).words).toMatch(/went wrong/);
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
    expect(reachedStep(session('DECLINED', [[true, false, false], [false, false, false], [false, false, false]]))).toBe('AWAITING_APPROVAL');
    expect(reachedStep(session('EXPIRED', [[true, true, false], [true, false, false], [true, true, false]]))).toBe('NONCE_EXCHANGE');
    expect(reachedStep(session('ABORTED', [[true, true, true], [true, true, false], [true, true, false]]))).toBe('PARTIAL_SIG_EXCHANGE');
    expect(reachedStep(session('NONCE_EXCHANGE', [[true, false, false], [true, false, false], [true, false, false]]))).toBe('NONCE_EXCHANGE');
  });

  test('waits for me only while awaiting approval and not approved by the local signer', () => {
    expect(awaitsMyApproval(session('AWAITING_APPROVAL', [[true, false, false], [false, false, false], [false, false, false]]))).toBe(true);
    expect(awaitsMyApproval(session('AWAITING_APPROVAL', [[true, false, false], [true, false, false], [false, false, false]]))).toBe(false);
    expect(awaitsMyApproval(session('DECLINED', [[true, false, false], [false, false, false], [false, false, false]]))).toBe(false);
  });

  test('resume is offered for an open exchange that has not moved for a while, never for an ended session', () => {
    const all: [boolean, boolean, boolean][] = [[true, true, false], [true, false, false], [true, true, false]];
    const stalled = session('NONCE_EXCHANGE', all, { updatedAt: 10_000 });
    expect(canResume(stalled, 10_000 + RESUME_AFTER_MS - 1)).toBe(false);
    expect(canResume(stalled, 10_000 + RESUME_AFTER_MS)).toBe(true);
    expect(canResume(stalled, stalled.expiresAt)).toBe(false);
    expect(canResume(session('ABORTED', all, { updatedAt: 0 }), 500_000)).toBe(false);
    expect(canResume(session('AWAITING_APPROVAL', all, { updatedAt: 0 }), 500_000)).toBe(false);
  });

  test('blame is worded by what happened', () => {
    expect(blameWords('DECLINED').heading).toBe('Declined by');
    expect(blameWords('SESSION_STUCK').note).toBe('Did not answer in time');
    expect(blameWords('INVALID_PARTIAL_SIGNATURE').heading).toBe('Blamed');
  });

  test('the export holds what a verifier needs', () => {
    const done = session('COMPLETE', [[true, true, true], [true, true, true], [true, true, true]], { signatures: ['55'.repeat(64)] });
    expect(JSON.parse(sessionExport(done))).toMatchObject({
      sessionId: ID,
      messages: [{ hex: '6869', display: 'hi' }],
      signingKey: '44'.repeat(32),
      signatures: ['55'.repeat(64)],
      signers: [K1, K2, K3],
    });
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
