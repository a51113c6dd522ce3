/**
 * A copy of a PSBT being co-signed that carries the BIP373 fields of the running attempt, kept on the
 * PSBT's raw key-value maps: each field is encoded once, when it arrives, and the copy is a
 * concatenation when asked for. (@scure/btc-signer's updateInput re-validates every key of an input
 * at each update, so writing the fields with it took seconds for 100 inputs and 3 signers.)
 *
 * Every input map is written in key order (type, then key data), the order @scure/btc-signer writes
 * the fields BIP174 defines in; the global and output maps as announced. For a PSBT it wrote, that is
 * the same PSBT as writing the fields with it.
 */
import { concatBytes } from '@noble/hashes/utils.js';
import { CosignerError } from '../errors.ts';
import { encodeBip373Field, PSBT_IN_MUSIG2_PARTIAL_SIG, PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS, PSBT_IN_MUSIG2_PUB_NONCE } from './bip373.ts';
import { PSBT_MAGIC, readPsbtMaps, writePsbtEntry, writePsbtMap } from './psbt-maps.ts';
import type { PlannedInput, PsbtSigningPlan } from './psbt-signing.ts';

const PSBT_IN_TAP_INTERNAL_KEY = 0x17;
const PUB_NONCE_BYTES = 66;
const PARTIAL_SIG_BYTES = 32;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/**
 * The PSBT with PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS of the plan's signers on every input (keyed by
 * their untweaked aggregate: the group's on the key path, the leaf's on a leaf) (and the taproot
 * internal key where missing), and the public nonces and partial signatures given so far, each signer named by
 * its position in the plan's (KeySort) participant list. Any nonce or partial signature the PSBT
 * came with is left out: they belong to another session.
 */
export class Bip373Copy {
  readonly #participants: readonly Uint8Array[];
  /** Per input, the key its nonces and partial signatures are for: its signing context's aggregate
   *  (BIP373: the tweaked output key on the key path, the derived key in the script on a leaf). */
  readonly #signingKeys: readonly Uint8Array[];
  /** Per input, the hash of the leaf signed (the third part of the key), none on the key path. */
  readonly #leafHashes: readonly (Uint8Array | undefined)[];
  /** Magic and global map, as announced. */
  readonly #start: Uint8Array;
  /** Per input, its framed entries of the types before the nonces (up to the participants). */
  readonly #heads: readonly Uint8Array[];
  /** Per input, its framed entries of the types after the partial signatures, and the map's end. */
  readonly #tails: readonly Uint8Array[];
  /** The output maps, as announced. */
  readonly #end: Uint8Array;
  /** Positions in the order of their keys, the order of their fields in every input (the key that
   *  follows in the key data is the same for every signer of an input). */
  readonly #order: readonly number[];
  /** [position][input]: a signer's framed entries. */
  readonly #nonces: (readonly Uint8Array[] | undefined)[];
  readonly #partials: (readonly Uint8Array[] | undefined)[];

  /** From a PSBT every input of which is planned, in order (a plan refuses any other PSBT). */
  constructor(psbt: Uint8Array, plan: PsbtSigningPlan) {
    const maps = readPsbtMaps(psbt);
    if (plan.inputs.length !== maps.inputs.length || plan.inputs.some((input, i) => input.index !== i)) {
      throw new CosignerError('INVALID_INPUT', 'the plan is not of this PSBT: every input is planned, in order');
    }
    this.#participants = plan.participants;
    this.#signingKeys = plan.inputs.map((input) => input.key.signingCtx.aggregateKey);
    this.#leafHashes = plan.inputs.map((input) => input.leaf?.leafHash);
    const participants = encodeBip373Field({
      kind: 'inputParticipants',
      data: { aggregateKey: plan.aggregateKey, participants: plan.participants },
    });
    const heads: Uint8Array[] = [];
    const tails: Uint8Array[] = [];
    maps.inputs.forEach((announced, i) => {
      const entries = announced.filter(
        (e) => !(e.keyType === PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS && sameBytes(e.keyData, plan.aggregateKey)),
      );
      entries.push(participants);
      if (!entries.some((e) => e.keyType === PSBT_IN_TAP_INTERNAL_KEY)) {
        entries.push({
          keyType: PSBT_IN_TAP_INTERNAL_KEY,
          keyData: new Uint8Array(0),
          value: (plan.inputs[i] as PlannedInput).key.internalKey,
        });
      }
      entries.sort((a, b) => a.keyType - b.keyType || compareBytes(a.keyData, b.keyData));
      // The nonces and partial signatures the PSBT came with, another session's, are in neither part.
      heads.push(concatBytes(...entries.filter((e) => e.keyType < PSBT_IN_MUSIG2_PUB_NONCE).map(writePsbtEntry)));
      tails.push(writePsbtMap(entries.filter((e) => e.keyType > PSBT_IN_MUSIG2_PARTIAL_SIG)));
    });
    this.#heads = heads;
    this.#tails = tails;
    this.#start = concatBytes(Uint8Array.from(PSBT_MAGIC), writePsbtMap(maps.global));
    this.#end = concatBytes(...maps.outputs.map(writePsbtMap));
    this.#order = plan.participants
      .map((_, p) => p)
      .sort((a, b) => compareBytes(plan.participants[a] as Uint8Array, plan.participants[b] as Uint8Array));
    this.#nonces = plan.participants.map(() => undefined);
    this.#partials = plan.participants.map(() => undefined);
  }

  /** PSBT_IN_MUSIG2_PUB_NONCE of the signer at `position` for every input; undefined removes them. */
  setPubNonces(position: number, pubNonces: readonly Uint8Array[] | undefined): void {
    this.#checked(position);
    this.#nonces[position] = pubNonces === undefined ? undefined : this.#entries(position, 'pubNonce', pubNonces);
  }

  /** PSBT_IN_MUSIG2_PARTIAL_SIG of the signer at `position` for every input; undefined removes them. */
  setPartialSigs(position: number, partialSigs: readonly Uint8Array[] | undefined): void {
    this.#checked(position);
    this.#partials[position] = partialSigs === undefined ? undefined : this.#entries(position, 'partialSig', partialSigs);
  }

  /** Every nonce and partial signature removed (a new attempt); the participants stay. */
  clearProgress(): void {
    this.#nonces.fill(undefined);
    this.#partials.fill(undefined);
  }

  /** The PSBT as it stands. */
  toPsbt(): Uint8Array {
    const parts: Uint8Array[] = [this.#start];
    this.#heads.forEach((head, i) => {
      parts.push(head);
      for (const p of this.#order) {
        const nonce = this.#nonces[p]?.[i];
        if (nonce) parts.push(nonce);
      }
      for (const p of this.#order) {
        const partial = this.#partials[p]?.[i];
        if (partial) parts.push(partial);
      }
      parts.push(this.#tails[i] as Uint8Array);
    });
    parts.push(this.#end);
    return concatBytes(...parts);
  }

  #checked(position: number): void {
    if (!Number.isInteger(position) || position < 0 || position >= this.#participants.length) {
      throw new CosignerError('INVALID_INPUT', 'no signer at this position', { position });
    }
  }

  /** One framed entry per input, in input order. */
  #entries(position: number, kind: 'pubNonce' | 'partialSig', values: readonly Uint8Array[]): Uint8Array[] {
    const what = kind === 'pubNonce' ? 'public nonce' : 'partial signature';
    if (!Array.isArray(values) || values.length !== this.#signingKeys.length) {
      throw new CosignerError('INVALID_INPUT', `expected one ${what} per input`, { expected: this.#signingKeys.length });
    }
    const participantKey = this.#participants[position] as Uint8Array;
    return values.map((value, i) => {
      const aggregateKey = this.#signingKeys[i] as Uint8Array;
      const leaf = this.#leafHashes[i] ? { leafHash: this.#leafHashes[i] } : {};
      if (!(value instanceof Uint8Array) || value.length !== (kind === 'pubNonce' ? PUB_NONCE_BYTES : PARTIAL_SIG_BYTES)) {
        throw new CosignerError('INVALID_INPUT', `input ${i}: not a ${what}`, { input: i });
      }
      return writePsbtEntry(
        kind === 'pubNonce'
          ? encodeBip373Field({ kind, data: { participantKey, aggregateKey, ...leaf, pubNonce: value } })
          : encodeBip373Field({ kind, data: { participantKey, aggregateKey, ...leaf, partialSig: value } }),
      );
    });
  }
}
