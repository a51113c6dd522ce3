/**
 * The BIP373 MuSig2 PSBT fields, typed: participant keys (input 0x1a, output 0x08), public nonces
 * (0x1b) and partial signatures (0x1c). Decoding checks every length and that every key is a
 * 33-byte compressed point, and says which part is wrong; encoding is the exact inverse.
 *
 * In a nonce or partial-signature key, the second key is the one the signature is for: for a key
 * path spend, the compressed taproot output key (the BIP373 vectors key their "internal key" and
 * "derived" cases by 03 2967d2… and 02 d0b226…, the tweaked keys, not by the aggregate 030b58e3…).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { CosignerError } from '../errors.ts';
import type { PsbtEntry, PsbtMaps } from './psbt-maps.ts';

export const PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS = 0x1a;
export const PSBT_IN_MUSIG2_PUB_NONCE = 0x1b;
export const PSBT_IN_MUSIG2_PARTIAL_SIG = 0x1c;
export const PSBT_OUT_MUSIG2_PARTICIPANT_PUBKEYS = 0x08;

const FIELD_NAMES: Record<string, string> = {
  [`input:${PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS}`]: 'PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS',
  [`input:${PSBT_IN_MUSIG2_PUB_NONCE}`]: 'PSBT_IN_MUSIG2_PUB_NONCE',
  [`input:${PSBT_IN_MUSIG2_PARTIAL_SIG}`]: 'PSBT_IN_MUSIG2_PARTIAL_SIG',
  [`output:${PSBT_OUT_MUSIG2_PARTICIPANT_PUBKEYS}`]: 'PSBT_OUT_MUSIG2_PARTICIPANT_PUBKEYS',
};

export interface MusigParticipants {
  /** 33-byte compressed aggregate (KeyAgg output), possibly the parent of a BIP328-derived key. */
  readonly aggregateKey: Uint8Array;
  /** 33-byte compressed keys in aggregation order (sorted, if sorting was done). */
  readonly participants: readonly Uint8Array[];
}

export interface MusigPubNonce {
  readonly participantKey: Uint8Array;
  /** 33-byte compressed key the nonce is for (see the module comment). */
  readonly aggregateKey: Uint8Array;
  /** BIP341 tapleaf hash for a script path spend; absent for the key path. */
  readonly leafHash?: Uint8Array;
  readonly pubNonce: Uint8Array;
}

export interface MusigPartialSig {
  readonly participantKey: Uint8Array;
  readonly aggregateKey: Uint8Array;
  readonly leafHash?: Uint8Array;
  readonly partialSig: Uint8Array;
}

export type Bip373Field =
  | { readonly kind: 'inputParticipants'; readonly data: MusigParticipants }
  | { readonly kind: 'outputParticipants'; readonly data: MusigParticipants }
  | { readonly kind: 'pubNonce'; readonly data: MusigPubNonce }
  | { readonly kind: 'partialSig'; readonly data: MusigPartialSig };

export interface Bip373Input {
  readonly participants: readonly MusigParticipants[];
  readonly pubNonces: readonly MusigPubNonce[];
  readonly partialSigs: readonly MusigPartialSig[];
}

export interface Bip373Fields {
  readonly inputs: readonly Bip373Input[];
  readonly outputs: readonly (readonly MusigParticipants[])[];
}

/** A field that breaks BIP373; `reason` says what, for the person who made the PSBT. */
class FieldProblem extends Error {}

function checkPoint(bytes: Uint8Array, what: string): Uint8Array {
  if (bytes.length === 32) throw new FieldProblem(`${what} is x-only (32 bytes); BIP373 requires a 33-byte compressed key`);
  if (bytes.length !== 33 || (bytes[0] !== 2 && bytes[0] !== 3)) throw new FieldProblem(`${what} is not a 33-byte compressed key`);
  try {
    secp256k1.Point.fromBytes(bytes);
  } catch {
    throw new FieldProblem(`${what} is not a point on secp256k1`);
  }
  return bytes.slice();
}

function isPoint(bytes: Uint8Array): boolean {
  try {
    checkPoint(bytes, '');
    return true;
  } catch {
    return false;
  }
}

function decodeParticipants(entry: PsbtEntry): MusigParticipants {
  const aggregateKey = checkPoint(entry.keyData, 'the aggregate key in the key data');
  const { value } = entry;
  if (value.length === 0) throw new FieldProblem('the participant list is empty');
  if (value.length % 33 !== 0) {
    throw new FieldProblem(
      `the participant list is ${value.length} bytes, not a whole number of 33-byte compressed keys (is a key x-only?)`,
    );
  }
  const participants: Uint8Array[] = [];
  for (let at = 0; at < value.length; at += 33) {
    participants.push(checkPoint(value.subarray(at, at + 33), `participant key ${at / 33}`));
  }
  return { aggregateKey, participants };
}

/** participant key || key signed for || optional 32-byte leaf hash. */
function decodeSignerKey(keyData: Uint8Array): { participantKey: Uint8Array; aggregateKey: Uint8Array; leafHash?: Uint8Array } {
  const n = keyData.length;
  if (n === 65 || n === 97) {
    const aggregateXOnly = isPoint(keyData.subarray(0, 33));
    throw new FieldProblem(
      `the key data is ${n} bytes: the ${aggregateXOnly ? 'aggregate' : 'participant'} key is x-only; BIP373 requires 33-byte compressed keys`,
    );
  }
  if (n !== 66 && n !== 98) {
    throw new FieldProblem(`the key data is ${n} bytes; expected a participant key and an aggregate key (66), and a leaf hash (98)`);
  }
  const participantKey = checkPoint(keyData.subarray(0, 33), 'the participant key');
  const aggregateKey = checkPoint(keyData.subarray(33, 66), 'the aggregate key');
  return n === 98 ? { participantKey, aggregateKey, leafHash: keyData.slice(66) } : { participantKey, aggregateKey };
}

function decodePubNonce(entry: PsbtEntry): MusigPubNonce {
  const key = decodeSignerKey(entry.keyData);
  if (entry.value.length !== 66) throw new FieldProblem(`the public nonce is ${entry.value.length} bytes, not 66`);
  checkPoint(entry.value.subarray(0, 33), 'the first nonce point');
  checkPoint(entry.value.subarray(33), 'the second nonce point');
  return { ...key, pubNonce: entry.value.slice() };
}

function decodePartialSig(entry: PsbtEntry): MusigPartialSig {
  const key = decodeSignerKey(entry.keyData);
  if (entry.value.length !== 32) throw new FieldProblem(`the partial signature is ${entry.value.length} bytes, not 32`);
  if (!secp256k1.Point.Fn.isValid(secp256k1.Point.Fn.fromBytes(entry.value, true))) {
    throw new FieldProblem('the partial signature is not below the curve order');
  }
  return { ...key, partialSig: entry.value.slice() };
}

/** The field name of a BIP373 entry, or undefined when the entry is not one. */
export function bip373FieldName(scope: 'input' | 'output', keyType: number): string | undefined {
  return FIELD_NAMES[`${scope}:${keyType}`];
}

/**
 * The typed field of one raw entry of an input or output map; undefined for an entry that is not a
 * BIP373 field. A malformed field throws INVALID_PSBT with `context.field` and the reason.
 */
export function decodeBip373Entry(scope: 'input' | 'output', entry: PsbtEntry): Bip373Field | undefined {
  const field = bip373FieldName(scope, entry.keyType);
  if (field === undefined) return undefined;
  try {
    if (scope === 'output') return { kind: 'outputParticipants', data: decodeParticipants(entry) };
    if (entry.keyType === PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS) return { kind: 'inputParticipants', data: decodeParticipants(entry) };
    if (entry.keyType === PSBT_IN_MUSIG2_PUB_NONCE) return { kind: 'pubNonce', data: decodePubNonce(entry) };
    return { kind: 'partialSig', data: decodePartialSig(entry) };
  } catch (e) {
    if (e instanceof FieldProblem) throw new CosignerError('INVALID_PSBT', `${field}: ${e.message}`, { field, reason: e.message });
    throw e;
  }
}

/** The raw entry of a typed field (byte-exact inverse of decodeBip373Entry). */
export function encodeBip373Field(field: Bip373Field): PsbtEntry {
  const signerKey = (d: MusigPubNonce | MusigPartialSig): Uint8Array =>
    concatBytes(d.participantKey, d.aggregateKey, ...(d.leafHash ? [d.leafHash] : []));
  switch (field.kind) {
    case 'inputParticipants':
    case 'outputParticipants':
      return {
        keyType: field.kind === 'inputParticipants' ? PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS : PSBT_OUT_MUSIG2_PARTICIPANT_PUBKEYS,
        keyData: field.data.aggregateKey.slice(),
        value: concatBytes(...field.data.participants),
      };
    case 'pubNonce':
      return { keyType: PSBT_IN_MUSIG2_PUB_NONCE, keyData: signerKey(field.data), value: field.data.pubNonce.slice() };
    case 'partialSig':
      return { keyType: PSBT_IN_MUSIG2_PARTIAL_SIG, keyData: signerKey(field.data), value: field.data.partialSig.slice() };
  }
}

function located(e: unknown, where: 'input' | 'output', index: number): unknown {
  if (e instanceof CosignerError && e.code === 'INVALID_PSBT') {
    return new CosignerError('INVALID_PSBT', `${where} ${index}: ${e.message}`, { ...e.context, [where]: index }, { cause: e });
  }
  return e;
}

/** Every BIP373 field of a PSBT, typed; the first malformed one throws, naming its input or output. */
export function readBip373Fields(maps: PsbtMaps): Bip373Fields {
  const inputs = maps.inputs.map((map, index) => {
    const participants: MusigParticipants[] = [];
    const pubNonces: MusigPubNonce[] = [];
    const partialSigs: MusigPartialSig[] = [];
    for (const entry of map) {
      let field: Bip373Field | undefined;
      try {
        field = decodeBip373Entry('input', entry);
      } catch (e) {
        throw located(e, 'input', index);
      }
      if (field?.kind === 'inputParticipants') participants.push(field.data);
      else if (field?.kind === 'pubNonce') pubNonces.push(field.data);
      else if (field?.kind === 'partialSig') partialSigs.push(field.data);
    }
    return { participants, pubNonces, partialSigs };
  });
  const outputs = maps.outputs.map((map, index) => {
    const participants: MusigParticipants[] = [];
    for (const entry of map) {
      let field: Bip373Field | undefined;
      try {
        field = decodeBip373Entry('output', entry);
      } catch (e) {
        throw located(e, 'output', index);
      }
      if (field?.kind === 'outputParticipants') participants.push(field.data);
    }
    return participants;
  });
  return { inputs, outputs };
}
