import { inspect } from 'node:util';
import { CosignerError, isCosignerError } from '../errors.ts';
import { generatePeerIdentity, type PeerIdentity, peerIdentityFromBytes, peerIdentityToBytes, peerIdOf } from '../p2p/identity.ts';
import type { Random } from '../session/ports.ts';

/**
 * The node's libp2p identity as the keystore hands it out. The stored bytes are the p2p layer's
 * format (libp2p's private-key protobuf, see p2p/identity.ts). libp2p's key object shows its raw
 * bytes to util.inspect; this handle does not, and gives out the key only on an explicit
 * privateKey() call (for createLibp2p).
 */
export class PeerIdentityHandle {
  readonly peerId: string;
  readonly #stored: Uint8Array;

  private constructor(stored: Uint8Array, key: PeerIdentity) {
    this.#stored = stored;
    this.peerId = peerIdOf(key);
  }

  static async generate(random: Random): Promise<PeerIdentityHandle> {
    const key = await generatePeerIdentity(random);
    return new PeerIdentityHandle(peerIdentityToBytes(key), key);
  }

  static fromStored(stored: Uint8Array, backend: string): PeerIdentityHandle {
    try {
      return new PeerIdentityHandle(Uint8Array.from(stored), peerIdentityFromBytes(stored));
    } catch (e) {
      if (isCosignerError(e, 'CORRUPT_KEY_FILE')) {
        throw new CosignerError('CORRUPT_KEY_FILE', `the stored peer identity is unreadable: ${e.message}`, { backend });
      }
      throw e;
    }
  }

  /** The bytes to store (a copy). */
  toStored(): Uint8Array {
    return Uint8Array.from(this.#stored);
  }

  /** A libp2p private key for createLibp2p({ privateKey }). */
  privateKey(): PeerIdentity {
    return peerIdentityFromBytes(this.#stored);
  }

  toJSON(): { peerId: string } {
    return { peerId: this.peerId };
  }

  [inspect.custom](): string {
    return `PeerIdentityHandle { peerId: '${this.peerId}' }`;
  }
}
