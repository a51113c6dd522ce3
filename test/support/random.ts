import { sha256 } from '@noble/hashes/sha2.js';
import type { Random } from '../../main/session/ports.ts';

/** Deterministic Random for tests: SHA-256(`${label}/${counter}`) blocks, so a label replays the same bytes. */
export function seededRandom(label: string): Random {
  let counter = 0;
  return {
    bytes(length: number): Uint8Array {
      const out = new Uint8Array(length);
      for (let at = 0; at < length; at += 32) {
        const block = sha256(new TextEncoder().encode(`${label}/${counter++}`));
        out.set(block.subarray(0, Math.min(32, length - at)), at);
      }
      return out;
    },
  };
}
