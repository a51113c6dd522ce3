import { inspect } from 'node:util';
import { bytesToHex } from '@noble/hashes/utils.js';
import { expect } from 'vitest';
import { CosignerError } from '../../main/errors.ts';
import type { SecretBackend } from '../../main/keys/secret-backend.ts';

/** An in-process SecretBackend (the tests' stand-in for the keychain), counting its calls. */
export class MemorySecretBackend implements SecretBackend {
  readonly kind = 'memory';
  readonly entries = new Map<string, Uint8Array>();
  readonly calls: string[] = [];

  async get(name: string): Promise<Uint8Array | null> {
    this.calls.push(`get ${name}`);
    const value = this.entries.get(name);
    return value === undefined ? null : Uint8Array.from(value);
  }

  async set(name: string, value: Uint8Array): Promise<void> {
    this.calls.push(`set ${name}`);
    this.entries.set(name, Uint8Array.from(value));
  }

  async delete(name: string): Promise<boolean> {
    this.calls.push(`delete ${name}`);
    return this.entries.delete(name);
  }
}

/** The CosignerError `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function failure(promise: Promise<unknown>): Promise<CosignerError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof CosignerError) return e;
    throw e;
  }
  throw new Error('expected a CosignerError');
}

/** Every way an object can end up in a log or on the wire. */
export function renderings(value: unknown): string[] {
  const out = [inspect(value, { depth: Infinity, showHidden: true, getters: true }), inspect(value, { depth: Infinity }), String(value)];
  try {
    out.push(JSON.stringify(value) ?? '');
  } catch (e) {
    out.push(String(e));
  }
  if (value instanceof Error) out.push(value.message, value.stack ?? '', inspect(value.cause, { depth: Infinity }));
  return out;
}

/**
 * Fails if any rendering of any value contains a secret: as lowercase or uppercase hex, as the
 * full word sequence or as any three consecutive words of it.
 */
export function expectNoSecrets(
  values: readonly unknown[],
  secrets: { bytes?: readonly Uint8Array[]; mnemonics?: readonly string[] },
): void {
  const needles: string[] = [];
  for (const bytes of secrets.bytes ?? []) {
    const hex = bytesToHex(bytes);
    needles.push(hex, hex.toUpperCase(), Buffer.from(bytes).toString('base64'));
    // util.inspect prints byte arrays as decimal lists
    needles.push(Array.from(bytes.subarray(0, 8)).join(', '));
  }
  for (const mnemonic of secrets.mnemonics ?? []) {
    const words = mnemonic.split(' ');
    for (let i = 0; i + 3 <= words.length; i++) needles.push(words.slice(i, i + 3).join(' '));
  }
  for (const value of values) {
    for (const text of renderings(value)) {
      for (const needle of needles) expect(text.includes(needle), `a secret appears in: ${text.slice(0, 200)}`).toBe(false);
    }
  }
}
