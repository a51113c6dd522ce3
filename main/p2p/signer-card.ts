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
import { ByteReader, ByteWriter } from '../encoding/bytes.ts';
import type { LengthBounds } from '../encoding/bytes.ts';

export const CARD_VERSION = 1;
export const CARD_TAG = 'Cosigner/signer-card';
export const MAX_DISPLAY_NAME_BYTES = 64;
export const MAX_CARD_ADDRS = 8;
export const MAX_CARD_ADDR_BYTES = 128;
/** A card from the future beyond this is refused: it could never be replaced by a correct clock. */
export const MAX_CARD_CLOCK_SKEW_MS = 10 * 60_000;
export const MAX_CARD_BYTES = 1 + 33 + 32 + 8 + 1 + MAX_DISPLAY_NAME_BYTES + 1 + MAX_CARD_ADDRS * (1 + MAX_CARD_ADDR_BYTES) + 64;
const NAME_FIELD: LengthBounds = { prefix: 'u8', min: 1, max: MAX_DISPLAY_NAME_BYTES };
const ADDR_FIELD: LengthBounds = { prefix: 'u8', max: MAX_CARD_ADDR_BYTES };

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
  if (!isValidSignerKey(signer.publicKey))
    throw new CosignerError('INVALID_PUBLIC_KEY', 'signer public key is not a valid compressed point');
  const secret = signer.secretKey();
  if (!equalBytes(secp256k1.getPublicKey(secret, true), signer.publicKey)) {
    throw new CosignerError('INVALID_SECRET_KEY', 'signer secret key does not match its public key');
  }
  const body = encodeBody(signer.publicKey, fields);
  const signature = schnorr.sign(cardDigest(body), secret, random.bytes(32));
  const bytes = new ByteWriter('signer card').raw(body, 'body').fixed(signature, 64, 'signature').finish();
  return decodeSignerCard(bytes);
}

/** Decodes and verifies a card; throws MALFORMED_MESSAGE or BAD_SIGNATURE. Clock checks are the caller's. */
/**
 * Whether a decoder checks the record's signature: always, except for bytes this node validated
 * already (a record its DHT datastore holds, or one kad-dht validated just before storing it).
 */
export type SignatureCheck = 'check' | 'already-validated';

export function decodeSignerCard(bytes: Uint8Array, signature: SignatureCheck = 'check'): SignerCard {
  if (bytes.length > MAX_CARD_BYTES) throw new CosignerError('OVERSIZED_MESSAGE', 'signer card too large', { length: bytes.length });
  const r: ByteReader = new ByteReader(bytes, 'signer card');
  const version = r.u8('version');
  if (version !== CARD_VERSION) throw new CosignerError('UNSUPPORTED_VERSION', 'unknown signer card version', { version });
  const signerKey = r.fixed(33, 'signerKey');
  if (!isValidSignerKey(signerKey)) r.fail('invalid signer key', 'signerKey');
  const peerKey = r.fixed(32, 'peerKey');
  let peerId: string;
  try {
    peerId = peerIdFromPublicKey(publicKeyFromRaw(peerKey)).toString();
  } catch {
    r.fail('invalid peer key', 'peerKey');
  }
  const issuedAt = r.u64('issuedAt');
  const displayName = r.string('displayName', NAME_FIELD);
  if (FORBIDDEN_NAME_CHARS.test(displayName)) r.fail('display name has forbidden characters', 'displayName');
  const count = r.u8('addrCount', MAX_CARD_ADDRS);
  const multiaddrs: string[] = [];
  for (let i = 0; i < count; i++) {
    const raw = r.bytes('multiaddr', ADDR_FIELD);
    try {
      multiaddrs.push(multiaddr(raw).toString());
    } catch {
      r.fail('invalid multiaddr', 'multiaddr');
    }
  }
  const bodyLength = r.offset;
  const signed = r.fixed(64, 'signature');
  r.end();
  const body = bytes.subarray(0, bodyLength);
  // Canonical form only: one card has exactly one encoding, so byte equality means card equality.
  if (!equalBytes(encodeBody(signerKey, { peerId, displayName, multiaddrs, issuedAt }), body)) r.fail('not canonical');
  if (signature === 'check' && !isSignedBy(signerKey, cardDigest(body), signed))
    throw new CosignerError('BAD_SIGNATURE', 'signer card signature does not verify', { signer: signerKeyHex(signerKey) });
  return { signerKey, peerId, displayName, multiaddrs, issuedAt, bytes: Uint8Array.from(bytes) };
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
  const w = new ByteWriter('signer card')
    .u8(CARD_VERSION, 'version')
    .fixed(signerKey, 33, 'signerKey')
    .fixed(peerKey, 32, 'peerKey')
    .u64(fields.issuedAt, 'issuedAt')
    .string(fields.displayName, 'displayName', NAME_FIELD)
    .u8(fields.multiaddrs.length, 'addrCount', MAX_CARD_ADDRS);
  for (const addr of fields.multiaddrs) w.bytes(multiaddr(addr).bytes, 'multiaddr', ADDR_FIELD);
  return w.finish();
}

function cardDigest(body: Uint8Array): Uint8Array {
  return schnorr.utils.taggedHash(CARD_TAG, body);
}
