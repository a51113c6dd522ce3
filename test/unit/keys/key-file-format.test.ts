import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { isCosignerError } from '../../../main/errors.ts';
import {
  deriveFileKeys,
  type FileKeys,
  KEY_FILE_LAYOUT,
  openKeyFile,
  readKeyFileEnvelope,
  sealKeyFile,
} from '../../../main/keys/key-file-format.ts';
import { decodeSecretMap, encodeSecretMap } from '../../../main/keys/secret-map.ts';
import { seededRandom } from '../../support/random.ts';

const LIGHT = { log2N: 10, r: 8, p: 1 };
const PATH = '/tmp/example.keys';
const random = seededRandom('key-file-format');
const plaintext = random.bytes(68);
let keys: FileKeys;
let file: Uint8Array;

beforeAll(async () => {
  keys = await deriveFileKeys('correct horse', random.bytes(32), LIGHT);
  file = sealKeyFile(plaintext, keys, random.bytes(24));
});

async function open(bytes: Uint8Array, passphrase = 'correct horse'): Promise<Uint8Array> {
  const envelope = readKeyFileEnvelope(bytes, PATH);
  return openKeyFile(envelope, await deriveFileKeys(passphrase, envelope.salt, envelope.params), PATH);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (e) {
    return isCosignerError(e) ? e.code : `foreign: ${String(e)}`;
  }
}

/** Recomputes the trailing checksum: what a deliberate editor (not an accident) would do. */
function reChecksum(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  out.set(sha256(out.subarray(0, out.length - 32)), out.length - 32);
  return out;
}

describe('the key-file KDF', () => {
  const utf8 = new TextEncoder();

  it('is scrypt: the RFC 7914 test vector, encKey then checkKey', async () => {
    const k = await deriveFileKeys('password', utf8.encode('NaCl'), { log2N: 10, r: 8, p: 16 });
    expect(bytesToHex(k.encKey) + bytesToHex(k.checkKey)).toBe(
      'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
    );
  });

  it('refuses parameters scrypt itself forbids (RFC 7914: N < 2^(16·r)), before any file is written with them', async () => {
    await expect(deriveFileKeys('x', random.bytes(32), { log2N: 16, r: 1, p: 1 })).rejects.toThrow(RangeError);
    await expect(deriveFileKeys('x', random.bytes(32), { log2N: 15, r: 1, p: 1 })).resolves.toMatchObject({
      params: { log2N: 15, r: 1, p: 1 },
    });
  });

  it('gives the bytes @noble/hashes gave, so files written before open the same', async () => {
    for (const [passphrase, params] of [
      ['correct horse', LIGHT],
      ['caf\u00e9 \u{1F511}', { log2N: 11, r: 4, p: 2 }],
    ] as const) {
      const salt = random.bytes(32);
      const k = await deriveFileKeys(passphrase, salt, params);
      const noble = await scryptAsync(utf8.encode(passphrase.normalize('NFKD')), salt, {
        N: 2 ** params.log2N,
        r: params.r,
        p: params.p,
        dkLen: 64,
      });
      expect(bytesToHex(k.encKey) + bytesToHex(k.checkKey)).toBe(bytesToHex(noble));
    }
  });
});

describe('key file format v1', () => {
  it('round-trips and has the documented layout', async () => {
    expect(bytesToHex(await open(file))).toBe(bytesToHex(plaintext));
    expect(new TextDecoder().decode(file.subarray(0, 8))).toBe('COSIGNKS');
    expect([file[8], file[9], file[10], file[11], file[12]]).toEqual([1, 1, 10, 8, 1]);
    expect(file.length).toBe(KEY_FILE_LAYOUT.HEADER_BYTES + plaintext.length + 16 + KEY_FILE_LAYOUT.CHECKSUM_BYTES);
    expect(bytesToHex(file)).not.toContain(bytesToHex(plaintext).slice(0, 16));
  });

  it('a fresh nonce makes every write different', () => {
    expect(bytesToHex(sealKeyFile(plaintext, keys, random.bytes(24)))).not.toBe(bytesToHex(file));
  });

  it('wrong passphrase is WRONG_PASSPHRASE', async () => {
    expect(await codeOf(open(file, 'correct horsf'))).toBe('WRONG_PASSPHRASE');
    expect(await codeOf(open(file, ''))).toBe('WRONG_PASSPHRASE');
  });

  it('the passphrase is NFKD-normalized: composed and decomposed spellings open the same file', async () => {
    const k = await deriveFileKeys('caf\u00e9', keys.salt, LIGHT);
    const sealed = sealKeyFile(plaintext, k, random.bytes(24));
    expect(bytesToHex(await open(sealed, 'cafe\u0301'))).toBe(bytesToHex(plaintext));
  });

  const regions: [string, number][] = [
    ['magic', 0],
    ['version', 8],
    ['kdf id', 9],
    ['log2N', 10],
    ['r', 11],
    ['p', 12],
    ['salt', 20],
    ['nonce', 50],
    ['length', 70],
    ['passphrase check', 80],
    ['ciphertext', 100],
    ['tag', -33],
    ['checksum', -1],
  ];

  it.each(regions)('a flipped byte in the %s is CORRUPT_KEY_FILE', async (_region, offset) => {
    const damaged = Uint8Array.from(file);
    const at = offset < 0 ? damaged.length + offset : offset;
    damaged[at] = (damaged[at] as number) ^ 0x01;
    expect(await codeOf(open(damaged))).toBe('CORRUPT_KEY_FILE');
  });

  it('every truncation is CORRUPT_KEY_FILE', async () => {
    for (const length of [0, 1, 7, 8, 9, 60, 89, 120, file.length - 33, file.length - 32, file.length - 1]) {
      expect(await codeOf(open(file.subarray(0, length))), `length ${length}`).toBe('CORRUPT_KEY_FILE');
    }
  });

  it('appended bytes are CORRUPT_KEY_FILE', async () => {
    const longer = new Uint8Array(file.length + 1);
    longer.set(file);
    expect(await codeOf(open(longer))).toBe('CORRUPT_KEY_FILE');
  });

  it('a modified ciphertext with a recomputed checksum still fails authentication: CORRUPT_KEY_FILE', async () => {
    const forged = Uint8Array.from(file);
    forged[100] = (forged[100] as number) ^ 0x80;
    expect(await codeOf(open(reChecksum(forged)))).toBe('CORRUPT_KEY_FILE');
  });

  it('a modified header (aad) with a recomputed checksum fails authentication: CORRUPT_KEY_FILE', async () => {
    const forged = Uint8Array.from(file);
    forged[50] = (forged[50] as number) ^ 0x80; // nonce
    expect(await codeOf(open(reChecksum(forged)))).toBe('CORRUPT_KEY_FILE');
  });

  it('documented limit: a forged check value with a recomputed checksum reads as a wrong passphrase, and never decrypts', async () => {
    const forged = Uint8Array.from(file);
    forged[80] = (forged[80] as number) ^ 0x80;
    expect(await codeOf(open(reChecksum(forged)))).toBe('WRONG_PASSPHRASE');
  });

  it('a newer version (with a valid checksum) is UNSUPPORTED_VERSION', async () => {
    const newer = Uint8Array.from(file);
    newer[8] = 2;
    expect(await codeOf(open(reChecksum(newer)))).toBe('UNSUPPORTED_VERSION');
  });

  it('absurd KDF parameters are refused before any derivation runs', async () => {
    for (const [at, value] of [
      [10, 40],
      [10, 0],
      [11, 0],
      [12, 0],
      [12, 200],
      [9, 7],
    ] as const) {
      const absurd = Uint8Array.from(file);
      absurd[at] = value;
      expect(await codeOf(open(reChecksum(absurd))), `byte ${at} = ${value}`).toBe('CORRUPT_KEY_FILE');
    }
  });

  it('errors carry the path and nothing of the content', async () => {
    try {
      await open(file, 'nope');
      expect.unreachable();
    } catch (e) {
      expect(isCosignerError(e) && e.context).toEqual({ path: PATH });
    }
  });
});

describe('secret map (the key file plaintext)', () => {
  it('round-trips, sorted by name', () => {
    const map = new Map([
      ['b/peer-identity', random.bytes(68)],
      ['a/signer-key', random.bytes(34)],
    ]);
    const decoded = decodeSecretMap(encodeSecretMap(map));
    expect([...decoded.keys()]).toEqual(['a/signer-key', 'b/peer-identity']);
    for (const [name, value] of map) expect(bytesToHex(decoded.get(name) as Uint8Array)).toBe(bytesToHex(value));
    expect(decodeSecretMap(encodeSecretMap(new Map())).size).toBe(0);
  });

  it('rejects truncation, trailing bytes, unsorted or duplicate names', () => {
    const encoded = encodeSecretMap(
      new Map([
        ['a', new Uint8Array([1])],
        ['b', new Uint8Array([2])],
      ]),
    );
    for (let length = 0; length < encoded.length; length++) {
      expect(() => decodeSecretMap(encoded.subarray(0, length))).toThrow(RangeError);
    }
    expect(() => decodeSecretMap(new Uint8Array([...encoded, 0]))).toThrow(RangeError);
    const swapped = Uint8Array.from(encoded);
    swapped[3] = 'c'.charCodeAt(0); // first name becomes "c", after "b"
    expect(() => decodeSecretMap(swapped)).toThrow(RangeError);
    const duplicate = Uint8Array.from(encoded);
    duplicate[8] = 'a'.charCodeAt(0);
    expect(() => decodeSecretMap(duplicate)).toThrow(RangeError);
  });
});
