import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { Transaction } from '@scure/btc-signer';
import { describe, expect, it } from 'vitest';
import { isCosignerError } from '../../../main/errors.ts';
import {
  bip373FieldName,
  decodeBip373Entry,
  encodeBip373Field,
  PSBT_IN_MUSIG2_PARTIAL_SIG,
  PSBT_IN_MUSIG2_PUB_NONCE,
  PSBT_OUT_MUSIG2_PARTICIPANT_PUBKEYS,
  readBip373Fields,
} from '../../../main/wallet/bip373.ts';
import { readPsbtMaps, type PsbtEntry } from '../../../main/wallet/psbt-maps.ts';
import { bip373Cases, writePsbtMaps } from './psbt-fixtures.ts';

const valid = bip373Cases.filter((c) => c.validity === 'valid');
const invalid = bip373Cases.filter((c) => c.validity === 'invalid');

// What each invalid vector must be refused for: where, which field, and why.
const REASONS: Record<string, RegExp> = {
  'Case: PSBT with x-only aggregate pubkey in input participant pubkeys keydata':
    /^input 0: PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS: the aggregate key in the key data is x-only/,
  'Case: PSBT with an x-only input participant pubkey':
    /^input 0: PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS: the participant list is 98 bytes, not a whole number of 33-byte compressed keys/,
  'Case: PSBT with x-only aggregate pubkey in output participant pubkeys keydata':
    /^output 0: PSBT_OUT_MUSIG2_PARTICIPANT_PUBKEYS: the aggregate key in the key data is x-only/,
  // BIP373 erratum: this case's bytes are those of the previous case (see the dedicated test below).
  'Case: PSBT with an x-only output participant pubkey':
    /^output 0: PSBT_OUT_MUSIG2_PARTICIPANT_PUBKEYS: the aggregate key in the key data is x-only/,
  'Case: PSBT with x-only aggregate pubkey in public nonce keydata':
    /^input 0: PSBT_IN_MUSIG2_PUB_NONCE: the key data is 65 bytes: the aggregate key is x-only/,
  'Case: PSBT with an x-only participant pubkey in public nonce keydata':
    /^input 0: PSBT_IN_MUSIG2_PUB_NONCE: the key data is 65 bytes: the participant key is x-only/,
  'Case: PSBT with invalid public nonce valuedata length': /^input 0: PSBT_IN_MUSIG2_PUB_NONCE: the public nonce is 65 bytes, not 66/,
  'Case: PSBT with x-only aggregate pubkey in partial sig keydata':
    /^input 0: PSBT_IN_MUSIG2_PARTIAL_SIG: the key data is 97 bytes: the aggregate key is x-only/,
  'Case: PSBT with an x-only participant pubkey in partial sig keydata':
    /^input 0: PSBT_IN_MUSIG2_PARTIAL_SIG: the key data is 97 bytes: the participant key is x-only/,
  'Case: PSBT with invalid partial sig valuedata length': /^input 0: PSBT_IN_MUSIG2_PARTIAL_SIG: the partial signature is 31 bytes, not 32/,
};

function bip373Entries(hex: string): { scope: 'input' | 'output'; entry: PsbtEntry }[] {
  const maps = readPsbtMaps(hexToBytes(hex));
  return [
    ...maps.inputs.flatMap((m) => m.map((entry) => ({ scope: 'input' as const, entry }))),
    ...maps.outputs.flatMap((m) => m.map((entry) => ({ scope: 'output' as const, entry }))),
  ].filter(({ scope, entry }) => bip373FieldName(scope, entry.keyType) !== undefined);
}

function refusal(hex: string): Error {
  try {
    readBip373Fields(readPsbtMaps(hexToBytes(hex)));
  } catch (e) {
    return e as Error;
  }
  throw new Error('accepted');
}

describe('BIP373 vectors', () => {
  it('has 14 valid and 10 invalid cases', () => {
    expect([valid.length, invalid.length]).toEqual([14, 10]);
  });

  it.each(valid.map((c) => [c.case, c] as const))('valid: %s: parses, and every field and the PSBT round-trip', (_name, c) => {
    const entries = bip373Entries(c.psbt_hex);
    expect(entries.length).toBeGreaterThan(0);
    for (const { scope, entry } of entries) {
      const field = decodeBip373Entry(scope, entry)!;
      const again = encodeBip373Field(field);
      expect(again.keyType).toBe(entry.keyType);
      expect(bytesToHex(again.keyData)).toBe(bytesToHex(entry.keyData));
      expect(bytesToHex(again.value)).toBe(bytesToHex(entry.value));
    }
    const fields = readBip373Fields(readPsbtMaps(hexToBytes(c.psbt_hex)));
    const count =
      fields.inputs.reduce((n, i) => n + i.participants.length + i.pubNonces.length + i.partialSigs.length, 0) +
      fields.outputs.reduce((n, o) => n + o.length, 0);
    expect(count).toBe(entries.length);
    // The PSBT engine keeps the fields byte for byte.
    expect(bytesToHex(Transaction.fromPSBT(hexToBytes(c.psbt_hex)).toPSBT())).toBe(c.psbt_hex);
  });

  it.each(invalid.map((c) => [c.case, c] as const))('invalid: %s: refused with its reason', (name, c) => {
    const e = refusal(c.psbt_hex);
    expect(isCosignerError(e, 'INVALID_PSBT')).toBe(true);
    expect(e.message).toMatch(REASONS[name]!);
  });

  it('BIP373 erratum: "an x-only output participant pubkey" repeats the bytes of the x-only aggregate case', () => {
    const byName = (name: string) => invalid.find((c) => c.case === name)!.psbt_hex;
    expect(byName('Case: PSBT with an x-only output participant pubkey')).toBe(
      byName('Case: PSBT with x-only aggregate pubkey in output participant pubkeys keydata'),
    );
  });

  it('refuses an x-only output participant key (the case the erratum meant), made from the valid receive vector', () => {
    const receiving = valid.find((c) => c.case.startsWith('Case: Receiving a Taproot output where the internal key is a MuSig2'))!;
    const maps = readPsbtMaps(hexToBytes(receiving.psbt_hex));
    const outputs = maps.outputs.map((m) =>
      m.map((e) => (e.keyType === PSBT_OUT_MUSIG2_PARTICIPANT_PUBKEYS ? { ...e, value: e.value.slice(1) } : e)),
    );
    expect(() => readBip373Fields(readPsbtMaps(writePsbtMaps({ ...maps, outputs })))).toThrow(
      /^output 0: PSBT_OUT_MUSIG2_PARTICIPANT_PUBKEYS: the participant list is 98 bytes/,
    );
  });
});

describe('BIP373 field checks beyond the vectors', () => {
  const withNonces = valid.find((c) => c.case.endsWith('output key is a MuSig2 Aggregate Pubkey / With all partial signatures'))!;
  const maps = readPsbtMaps(hexToBytes(withNonces.psbt_hex));

  function mutate(keyType: number, change: (e: PsbtEntry) => PsbtEntry): Uint8Array {
    let done = false;
    const inputs = maps.inputs.map((m) =>
      m.map((e) => {
        if (done || e.keyType !== keyType) return e;
        done = true;
        return change(e);
      }),
    );
    return writePsbtMaps({ ...maps, inputs });
  }

  it('refuses a public nonce whose point is not on the curve', () => {
    const psbt = mutate(PSBT_IN_MUSIG2_PUB_NONCE, (e) => ({
      ...e,
      value: Uint8Array.from([0x02, ...new Uint8Array(32).fill(0xff), ...e.value.slice(33)]),
    }));
    expect(() => readBip373Fields(readPsbtMaps(psbt))).toThrow(/the first nonce point is not a point on secp256k1/);
  });

  it('refuses a partial signature not below the curve order', () => {
    const psbt = mutate(PSBT_IN_MUSIG2_PARTIAL_SIG, (e) => ({ ...e, value: new Uint8Array(32).fill(0xff) }));
    expect(() => readBip373Fields(readPsbtMaps(psbt))).toThrow(/not below the curve order/);
  });

  it('refuses an uncompressed-style prefix and a key data of the wrong length', () => {
    const prefixed = mutate(PSBT_IN_MUSIG2_PUB_NONCE, (e) => ({ ...e, keyData: Uint8Array.from([0x04, ...e.keyData.slice(1)]) }));
    expect(() => readBip373Fields(readPsbtMaps(prefixed))).toThrow(/the participant key is not a 33-byte compressed key/);
    const short = mutate(PSBT_IN_MUSIG2_PARTIAL_SIG, (e) => ({ ...e, keyData: e.keyData.slice(0, 40) }));
    expect(() => readBip373Fields(readPsbtMaps(short))).toThrow(/key data is 40 bytes/);
  });

  it('keeps a leaf hash (script path) as its own part of the key', () => {
    const scriptPath = valid.find((c) => c.case.endsWith('a key in a script is a MuSig2 Aggregate Pubkey / With all partial signatures'))!;
    const fields = readBip373Fields(readPsbtMaps(hexToBytes(scriptPath.psbt_hex)));
    const leafHashes = fields.inputs[0]!.partialSigs.map((p) => bytesToHex(p.leafHash!));
    expect(new Set(leafHashes)).toEqual(new Set(['b11fedaa63a0956501a7308c93b5637371e7613d9b8ade1783d49e26c06cfa2c']));
  });
});

describe('PSBT framing', () => {
  const hex = valid[0]!.psbt_hex;

  it('refuses a missing magic, a truncated PSBT, trailing bytes and a duplicate key', () => {
    expect(() => readPsbtMaps(hexToBytes(hex.slice(2)))).toThrow(/magic/);
    expect(() => readPsbtMaps(hexToBytes(hex.slice(0, -4)))).toThrow(/ends in the middle/);
    expect(() => readPsbtMaps(hexToBytes(`${hex}00`))).toThrow(/follow the last output/);
    const maps = readPsbtMaps(hexToBytes(hex));
    const doubled = writePsbtMaps({ ...maps, inputs: [[...maps.inputs[0]!, maps.inputs[0]![0]!]] });
    expect(() => readPsbtMaps(doubled)).toThrow(/input 0 has the same key twice/);
  });

  it('refuses a non-canonical compact size and an unknown PSBT version', () => {
    const maps = readPsbtMaps(hexToBytes(hex));
    const bytes = writePsbtMaps(maps);
    // Rewrite the first key length (0x01, the unsigned tx key) as 0xfd 0x01 0x00.
    const nonCanonical = Uint8Array.from([...bytes.slice(0, 5), 0xfd, 0x01, 0x00, ...bytes.slice(6)]);
    expect(() => readPsbtMaps(nonCanonical)).toThrow(/shortest form/);
    const v3 = writePsbtMaps({
      ...maps,
      global: [...maps.global, { keyType: 0xfb, keyData: new Uint8Array(), value: Uint8Array.of(3, 0, 0, 0) }],
    });
    expect(() => readPsbtMaps(v3)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_VERSION' }));
  });

  it('reads a PSBTv2 by its input and output counts', () => {
    const tx = Transaction.fromPSBT(hexToBytes(hex));
    const v2 = readPsbtMaps(tx.toPSBT(2));
    expect(v2.version).toBe(2);
    expect([v2.inputs.length, v2.outputs.length]).toEqual([1, 1]);
    expect(readBip373Fields(v2).inputs[0]!.participants).toHaveLength(1);
  });
});
