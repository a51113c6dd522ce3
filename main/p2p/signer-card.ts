/**
 * Signer cards: a record signed by a signer's (MuSig2) key binding that key to the libp2p peer id it
 * runs on, a display name and the addresses to dial. Cards are what lets a co-signer be found by
 * public key, and what the coordinator trusts (through `peerOf`) to authenticate session messages.
 *
 * Canonical encoding (all integers big-endian):
 *   version u8 (=1) | signerKey 33 | peerKey 32 (Ed25519 public key of the peer id) | issuedAt u64 ms
 *   | nameLen u8 | name (UTF-8) | addrCount u8 | (addrLen u8 | multiaddr bytes)* | signature 64
 * signature = BIP340(taggedHash("Cosigner/signer-card", everything before the signature)) under the
 * x-only form of signerKey. The full 33-byte key is inside the signed bytes, so the parity is bound too.
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { equalBytes } from '@noble/curves/utils.js';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { CosignerError } from '../errors.ts';
import type { Random } from '../session/ports.ts';
import { ByteReader, ByteWriter } from './byte-codec.ts';

export const CARD_VERSION = 1;
export const CARD_TAG = 'Cosigner/signer-card';
export const MAX_DISPLAY_NAME_BYTES = 64;
export const MAX_CARD_ADDRS = 8;
export const MAX_CARD_ADDR_BYTES = 128;
/** A card from the future beyond this is refused: it could never be replaced by a correct clock. */
export const MAX_CARD_CLOCK_SKEW_MS = 10 * 60_000;
export const MAX_CARD_BYTES = 1 + 33 + 32 + 8 + 1 + MAX_DISPLAY_NAME_BYTES + 1 + MAX_CARD_ADDRS * (1 + MAX_CARD_ADDR_BYTES) + 64;

/** The keystore's signer key shape. */
export interface SignerKey {
  readonly publicKey: Uint8Array;
  secretKey(): Uint8Array;
}

export interface SignerCard {
  readonly signerKey: Uint8Array;
  readonly peerId: string;
  readonly displayName: string;
  readonly multiaddrs: readonly string[];
  readonly issuedAt: number;
  /** The canonical signed encoding: what is exchanged and stored in the DHT. */
  readonly bytes: Uint8Array;
}

export interface CardFields {
  peerId: string;
  displayName: string;
  multiaddrs: readonly string[];
  issuedAt: number;
}

// Control characters and bidi overrides would let a name impersonate another in the UI.
const FORBIDDEN_NAME_CHARS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

export function isValidSignerKey(key: Uint8Array): boolean {
  if (key.length !== 33 || (key[0] !== 2 && key[0] !== 3)) return false;
  try {
    secp256k1.Point.fromBytes(key).assertValidity();
    return true;
  } catch {
    return false;
  }
}

/** Whether `signature` is a BIP340 signature of `digest` by the (valid, 33-byte) `signerKey`; never throws. */
export function isSignedBy(signerKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean {
  try {
    return schnorr.verify(signature, digest, signerKey.subarray(1));
  } catch {
    return false;
  }
}

function signerKeyHex(key: Uint8Array): string {
  return bytesToHex(key);
}

export function createSignerCard(fields: CardFields, signer: SignerKey, random: Random): SignerCard {
  if (!isValidSignerKey(signer.publicKey)) throw new CosignerError('INVALID_PUBLIC_KEY', 'signer public key is not a valid compressed point');
  const secret = signer.secretKey();
  if (!equalBytes(secp256k1.getPublicKey(secret, true), signer.publicKey)) {
    throw new CosignerError('INVALID_SECRET_KEY', 'signer secret key does not match its public key');
  }
  const body = encodeBody(signer.publicKey, fields);
  const signature = schnorr.sign(cardDigest(body), secret, random.bytes(32));
  const bytes = new ByteWriter().bytes(body).bytes(signature).finish();
  return decodeSignerCard(bytes);
}

/** Decodes and verifies a card; throws MALFORMED_MESSAGE or BAD_SIGNATURE. Clock checks are the caller's. */
export function decodeSignerCard(bytes: Uint8Array): SignerCard {
  if (bytes.length > MAX_CARD_BYTES) throw new CosignerError('OVERSIZED_MESSAGE', 'signer card too large', { length: bytes.length });
  const r: ByteReader = new ByteReader(bytes, 'signer card');
  const version = r.u8();
  if (version !== CARD_VERSION) throw new CosignerError('UNSUPPORTED_VERSION', 'unknown signer card version', { version });
  const signerKey = r.bytes(33);
  if (!isValidSignerKey(signerKey)) r.fail('invalid signer key');
  const peerKey = r.bytes(32);
  let peerId: string;
  try {
    peerId = peerIdFromPublicKey(publicKeyFromRaw(peerKey)).toString();
  } catch {
    r.fail('invalid peer key');
  }
  const issuedAt = r.u64();
  const displayName = decodeName(r.short(MAX_DISPLAY_NAME_BYTES), r);
  const count = r.u8();
  if (count > MAX_CARD_ADDRS) r.fail('too many addresses');
  const multiaddrs: string[] = [];
  for (let i = 0; i < count; i++) {
    const raw = r.short(MAX_CARD_ADDR_BYTES);
    try {
      multiaddrs.push(multiaddr(raw).toString());
    } catch {
      r.fail('invalid multiaddr');
    }
  }
  const bodyLength = r.offset;
  const signature = r.bytes(64);
  r.end();
  const body = bytes.subarray(0, bodyLength);
  // Canonical form only: one card has exactly one encoding, so byte equality means card equality.
  if (!equalBytes(encodeBody(signerKey, { peerId, displayName, multiaddrs, issuedAt }), body)) r.fail('not canonical');
  if (!isSignedBy(signerKey, cardDigest(body), signature)) throw new CosignerError('BAD_SIGNATURE', 'signer card signature does not verify', { signer: signerKeyHex(signerKey) });
  return { signerKey: Uint8Array.from(signerKey), peerId, displayName, multiaddrs, issuedAt, bytes: Uint8Array.from(bytes) };
}

/** True when `candidate` should replace `current` for the same signer key. */
export function isNewerCard(candidate: SignerCard, current: SignerCard | undefined): boolean {
  return current === undefined || candidate.issuedAt > current.issuedAt;
}

export function isCardFromTheFuture(card: SignerCard, now: number): boolean {
  return card.issuedAt > now + MAX_CARD_CLOCK_SKEW_MS;
}

function encodeBody(signerKey: Uint8Array, fields: CardFields): Uint8Array {
  const name = new TextEncoder().encode(fields.displayName);
  if (name.length === 0 || name.length > MAX_DISPLAY_NAME_BYTES || FORBIDDEN_NAME_CHARS.test(fields.displayName)) {
    throw new CosignerError('INVALID_INPUT', 'display name must be 1-64 bytes of printable UTF-8', { length: name.length });
  }
  if (fields.multiaddrs.length > MAX_CARD_ADDRS) {
    throw new CosignerError('INVALID_INPUT', 'too many addresses for a signer card', { count: fields.multiaddrs.length });
  }
  let peerKey: Uint8Array | undefined;
  try {
    peerKey = peerIdFromString(fields.peerId).publicKey?.raw;
  } catch {
    peerKey = undefined;
  }
  if (peerKey?.length !== 32) throw new CosignerError('INVALID_INPUT', 'peer id must be an Ed25519 peer id', { peerId: fields.peerId });
  const w = new ByteWriter().u8(CARD_VERSION).bytes(signerKey).bytes(peerKey).u64(fields.issuedAt).short(name).u8(fields.multiaddrs.length);
  for (const addr of fields.multiaddrs) {
    const raw = multiaddr(addr).bytes;
    if (raw.length > MAX_CARD_ADDR_BYTES) throw new CosignerError('INVALID_INPUT', 'multiaddr too long for a signer card', { addr });
    w.short(raw);
  }
  return w.finish();
}

function decodeName(raw: Uint8Array, r: ByteReader): string {
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    r.fail('display name is not UTF-8');
  }
  if (name.length === 0 || FORBIDDEN_NAME_CHARS.test(name)) r.fail('display name has forbidden characters');
  return name;
}

function cardDigest(body: Uint8Array): Uint8Array {
  return schnorr.utils.taggedHash(CARD_TAG, body);
}
