/** Small builders for the session unit tests. */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { AnnouncementBody, SessionMessage } from '../../main/session/codec.ts';
import { testSigner, type TestSigner } from './signers.ts';

export const signersABC: TestSigner[] = ['a', 'b', 'c'].map((l) => testSigner(`fixture/${l}`));
export const NOW = Date.UTC(2025, 0, 1);

export function body(overrides: Partial<AnnouncementBody> = {}): AnnouncementBody {
  return {
    signers: signersABC.map((s) => s.publicKey),
    creatorIndex: 0,
    tweak: 'taproot',
    createdAt: NOW,
    expiresAt: NOW + 3_600_000,
    salt: new Uint8Array(32).fill(7),
    display: 'Pay the plumber ✓',
    payload: { kind: 'message', message: new Uint8Array(32).fill(1), label: 'sighash' },
    ...overrides,
  };
}

export function message(overrides: Partial<SessionMessage> = {}): SessionMessage {
  return {
    sessionId: new Uint8Array(32).fill(9),
    sender: 1,
    attempt: 1,
    sequence: 1,
    timestamp: NOW,
    body: { type: 'approve' },
    ...overrides,
  };
}

export const hex = bytesToHex;

/** The code of the error `fn` throws ('no error' when it returns). */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  return 'no error';
}
