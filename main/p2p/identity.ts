/**
 * The node's persistent peer identity: an Ed25519 libp2p key, distinct from the signer (MuSig2) key.
 * The keystore stores the bytes from `peerIdentityToBytes` in the OS keychain so the peer id
 * survives restarts (co-signers find each other by it through signer cards).
 */
import { generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { Ed25519PrivateKey } from '@libp2p/interface';
import { CosignerError } from '../errors.ts';
import type { Random } from '../session/ports.ts';

export type PeerIdentity = Ed25519PrivateKey;

/** Generates a new identity from 32 bytes of the injected randomness (a seeded source in tests). */
export async function generatePeerIdentity(random: Random): Promise<PeerIdentity> {
  const seed = random.bytes(32);
  try {
    return await generateKeyPairFromSeed('Ed25519', seed);
  } finally {
    seed.fill(0);
  }
}

/** Protobuf encoding of the private key (libp2p's own format, so it stays readable across versions). */
export function peerIdentityToBytes(key: PeerIdentity): Uint8Array {
  return privateKeyToProtobuf(key);
}

export function peerIdentityFromBytes(bytes: Uint8Array): PeerIdentity {
  let key;
  try {
    key = privateKeyFromProtobuf(bytes);
  } catch (cause) {
    throw new CosignerError('CORRUPT_KEY_FILE', 'peer identity bytes do not decode as a libp2p private key', {}, { cause });
  }
  if (key.type !== 'Ed25519') {
    throw new CosignerError('CORRUPT_KEY_FILE', 'peer identity must be an Ed25519 key', { type: key.type });
  }
  return key;
}

export function peerIdOf(key: PeerIdentity): string {
  return peerIdFromPrivateKey(key).toString();
}
