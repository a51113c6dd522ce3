/**
 * The passphrase-encrypted key file, format version 1. Pure: bytes in, bytes out.
 *
 *   offset  size  field
 *   0       8     magic "COSIGNKS"
 *   8       1     format version = 1
 *   9       1     KDF id = 1 (scrypt)
 *   10      1     scrypt log2(N)
 *   11      1     scrypt r
 *   12      1     scrypt p
 *   13      32    salt
 *   45      24    nonce (XChaCha20-Poly1305, random per write)
 *   69      4     L = ciphertext length including the 16-byte tag (u32 big-endian)
 *   73      16    passphrase check = HMAC-SHA256(checkKey, CHECK_LABEL)[0..16]
 *   89      L     XChaCha20-Poly1305(encKey, nonce, plaintext, aad = bytes 0..89)
 *   89+L    32    SHA-256 of bytes 0..89+L
 *
 *   encKey || checkKey = scrypt(NFKD(passphrase) as UTF-8, salt, N, r, p, dkLen = 64)
 *
 * Telling a wrong passphrase from a damaged file, checked in this order:
 *   1. magic, length and the trailing SHA-256: an unkeyed checksum, so any truncation or flipped
 *      byte anywhere (header, check value, ciphertext, checksum) is CORRUPT_KEY_FILE before the
 *      passphrase is even tried. Every future version keeps "magic ... SHA-256 of the rest" so
 *      this step never depends on the version.
 *   2. the passphrase check value: it depends only on the passphrase, salt and KDF parameters, so
 *      with an intact file a mismatch can only mean WRONG_PASSPHRASE.
 *   3. the AEAD, which authenticates the header and the ciphertext: a failure with the right
 *      passphrase is CORRUPT_KEY_FILE.
 * A forger can recompute the unkeyed checksum, and then a forged check value or salt reads as a
 * wrong passphrase; but nothing forged ever decrypts, because the AEAD key needs the passphrase.
 * The checksum's job is diagnosis of accidents; security rests on the AEAD alone.
 *
 * The check value lets a guesser test a passphrase without the AEAD, which the AEAD tag allows
 * anyway at the same cost (one scrypt per guess): it gives an attacker nothing new.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { scrypt } from 'node:crypto';
import { CosignerError } from '../errors.ts';

export interface ScryptParams {
  /** log2 of N, the CPU/memory cost */
  log2N: number;
  r: number;
  p: number;
}

/**
 * N = 2^17, r = 8, p = 1: 128 MiB and about one second in pure JavaScript on a desktop, the
 * interactive-login figure recommended since scrypt's paper. A key file is opened once per start.
 */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = { log2N: 17, r: 8, p: 1 };

export const KEY_FILE_VERSION = 1;
const MAGIC = new TextEncoder().encode('COSIGNKS');
const KDF_SCRYPT = 1;
const SALT_BYTES = 32;
const NONCE_BYTES = 24;
const CHECK_BYTES = 16;
const TAG_BYTES = 16;
const CHECKSUM_BYTES = 32;
const HEADER_BYTES = 89;
const CHECK_LABEL = new TextEncoder().encode('Cosigner key file passphrase check v1');
// A file is read before its passphrase is known: its parameters must not be able to ask for more
// than this machine is willing to spend (1 GiB of scrypt memory).
const MAX_SCRYPT_MEMORY = 1024 ** 3;
const MAX_PLAINTEXT_BYTES = 1 << 20;

export interface FileKeys {
  readonly salt: Uint8Array;
  readonly params: ScryptParams;
  readonly encKey: Uint8Array;
  readonly checkKey: Uint8Array;
}

/** A key file whose structure and checksum are intact; its content is still unverified. */
export interface KeyFileEnvelope {
  readonly salt: Uint8Array;
  readonly params: ScryptParams;
  readonly nonce: Uint8Array;
  readonly check: Uint8Array;
  readonly aad: Uint8Array;
  readonly ciphertext: Uint8Array;
}

export function assertScryptParams(params: ScryptParams): void {
  const { log2N, r, p } = params;
  const ok =
    Number.isInteger(log2N) &&
    Number.isInteger(r) &&
    Number.isInteger(p) &&
    log2N >= 1 &&
    log2N <= 24 &&
    r >= 1 &&
    r <= 255 &&
    p >= 1 &&
    p <= 16 &&
    // RFC 7914 requires N < 2^(128·r/8); OpenSSL enforces it.
    log2N < 16 * r &&
    128 * r * 2 ** log2N <= MAX_SCRYPT_MEMORY;
  if (!ok) throw new RangeError(`scrypt parameters out of range: log2N=${log2N} r=${r} p=${p}`);
}

export async function deriveFileKeys(passphrase: string, salt: Uint8Array, params: ScryptParams): Promise<FileKeys> {
  assertScryptParams(params);
  const password = new TextEncoder().encode(passphrase.normalize('NFKD'));
  // Node's scrypt (OpenSSL): the bytes of RFC 7914 and of @noble/hashes' scrypt, which wrote the
  // earlier key files (both checked by the key-file tests), in about three quarters of the time, on
  // a libuv thread instead of the event loop: a daemon unlocking its key file stays responsive.
  let derived: Uint8Array;
  try {
    derived = await new Promise<Uint8Array>((resolve, reject) =>
      scrypt(password, salt, 64, { N: 2 ** params.log2N, r: params.r, p: params.p, maxmem: MAX_SCRYPT_MEMORY + 1024 * 1024 }, (err, key) =>
        err ? reject(err) : resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength)),
      ),
    );
  } finally {
    password.fill(0);
  }
  return { salt, params: { ...params }, encKey: derived.slice(0, 32), checkKey: derived.slice(32, 64) };
}

export function sealKeyFile(plaintext: Uint8Array, keys: FileKeys, nonce: Uint8Array): Uint8Array {
  if (nonce.length !== NONCE_BYTES || keys.salt.length !== SALT_BYTES) throw new RangeError('bad nonce or salt length');
  if (plaintext.length > MAX_PLAINTEXT_BYTES) throw new RangeError('key file content too large');
  const length = plaintext.length + TAG_BYTES;
  const out = new Uint8Array(HEADER_BYTES + length + CHECKSUM_BYTES);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[8] = KEY_FILE_VERSION;
  out[9] = KDF_SCRYPT;
  out[10] = keys.params.log2N;
  out[11] = keys.params.r;
  out[12] = keys.params.p;
  out.set(keys.salt, 13);
  out.set(nonce, 45);
  view.setUint32(69, length);
  out.set(checkValue(keys.checkKey), 73);
  const aad = out.subarray(0, HEADER_BYTES);
  out.set(xchacha20poly1305(keys.encKey, nonce, aad).encrypt(plaintext), HEADER_BYTES);
  out.set(sha256(out.subarray(0, HEADER_BYTES + length)), HEADER_BYTES + length);
  return out;
}

/** Step 1: structure, version and checksum, without the passphrase. */
export function readKeyFileEnvelope(bytes: Uint8Array, path: string): KeyFileEnvelope {
  const corrupt = (why: string): CosignerError => new CosignerError('CORRUPT_KEY_FILE', `the key file is damaged: ${why}`, { path });
  if (bytes.length < MAGIC.length || !equalBytes(bytes.subarray(0, MAGIC.length), MAGIC)) {
    throw corrupt('it is not a Cosigner key file');
  }
  if (bytes.length < HEADER_BYTES + TAG_BYTES + CHECKSUM_BYTES) throw corrupt('it is truncated');
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
  if (!equalBytes(sha256(body), bytes.subarray(body.length))) throw corrupt('its checksum does not match (truncated or modified)');
  if (bytes[8] !== KEY_FILE_VERSION) {
    throw new CosignerError('UNSUPPORTED_VERSION', 'the key file was written by a newer Cosigner', {
      path,
      version: bytes[8],
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(69);
  if (HEADER_BYTES + length !== body.length || length < TAG_BYTES) throw corrupt('its length field is inconsistent');
  const params = { log2N: bytes[10] as number, r: bytes[11] as number, p: bytes[12] as number };
  try {
    if (bytes[9] !== KDF_SCRYPT) throw new RangeError('unknown KDF');
    assertScryptParams(params);
  } catch {
    throw corrupt('its key derivation parameters are invalid');
  }
  return {
    salt: bytes.slice(13, 45),
    params,
    nonce: bytes.slice(45, 69),
    check: bytes.slice(73, 89),
    aad: bytes.slice(0, HEADER_BYTES),
    ciphertext: bytes.slice(HEADER_BYTES, body.length),
  };
}

/** Steps 2 and 3: the passphrase check, then the AEAD. `keys` must match the envelope's salt and params. */
export function openKeyFile(envelope: KeyFileEnvelope, keys: FileKeys, path: string): Uint8Array {
  if (!equalBytes(checkValue(keys.checkKey), envelope.check)) {
    throw new CosignerError('WRONG_PASSPHRASE', 'the passphrase does not open this key file', { path });
  }
  try {
    return xchacha20poly1305(keys.encKey, envelope.nonce, envelope.aad).decrypt(envelope.ciphertext);
  } catch {
    throw new CosignerError('CORRUPT_KEY_FILE', 'the key file is damaged: the passphrase is right but the content fails authentication', {
      path,
    });
  }
}

export function sameKdfInput(keys: FileKeys, salt: Uint8Array, params: ScryptParams): boolean {
  return equalBytes(keys.salt, salt) && keys.params.log2N === params.log2N && keys.params.r === params.r && keys.params.p === params.p;
}

function checkValue(checkKey: Uint8Array): Uint8Array {
  return hmac(sha256, checkKey, CHECK_LABEL).subarray(0, CHECK_BYTES);
}

export const KEY_FILE_LAYOUT = { HEADER_BYTES, CHECKSUM_BYTES, SALT_BYTES, NONCE_BYTES } as const;
