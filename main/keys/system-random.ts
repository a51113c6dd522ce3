import type { Random } from '../session/ports.ts';

/** The OS CSPRNG, the default wherever a Random port is not injected. */
export const systemRandom: Random = { bytes: (n) => crypto.getRandomValues(new Uint8Array(n)) };
