/**
 * Signing a PSBT with the MuSig2 engine: one plan (every input's key and signature message), one
 * batch that signs every input at once (inputs grouped by signing context, since a BIP328 child
 * signs under its own tweaks). A session's copy of the PSBT takes the BIP373 fields as the rounds
 * progress (bip373-copy.ts) and is finalized by psbt-finalize.ts. The other direction here: a PSBT
 * that already carries BIP373 nonces and partial signatures from another tool is read, checked, its
 * aggregates written into PSBT_IN_TAP_KEY_SIG, and finalized.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { equalBytes } from '@noble/curves/utils.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Transaction } from '@scure/btc-signer';
import { CosignerError, isCosignerError } from '../errors.ts';
import { generateNonce, publicKeyOf, SigningBatch, type KeyAggContext, type SecretNonce } from '../musig/index.ts';
import type { GroupKeys } from './group-keys.ts';
import { finalizeKeyPath } from './psbt-finalize.ts';
import { classifyInputs, feeOf, type ClassifyOptions, type ImportedPsbt } from './psbt-import.ts';
import { classifyPathInputs, type OwnPathInput } from './psbt-path-import.ts';
import { approvalDigest, TaprootSighasher, prevoutsOf, SIGHASH_DEFAULT } from './psbt-sighash.ts';
import type { SpendKeys } from './spend-keys.ts';
import { KEY_PATH, type SpendPath } from './spend-path.ts';

/** The key an input is signed under: a key-path key (GroupKeys' DerivedGroupKey is one), or a leaf's. */
export interface PsbtInputKey {
  /** BIP328 derivation of the spent output below the group's keys. */
  readonly path: readonly number[];
  /** What nonces and partial signatures are made under; its aggregateKey is the key BIP373 fields
   *  name (the tweaked output key on the key path, the derived key in the script on a leaf). */
  readonly signingCtx: KeyAggContext;
  /** The spent output's taproot internal and output keys (x-only). */
  readonly internalKey: Uint8Array;
  readonly outputKey: Uint8Array;
}

/** The leaf an input executes: what its final witness carries after the signature. */
export interface PlannedLeaf {
  readonly script: Uint8Array;
  readonly controlBlock: Uint8Array;
  readonly leafHash: Uint8Array;
}

export interface PlannedInput {
  readonly index: number;
  readonly key: PsbtInputKey;
  readonly sighashType: number;
  /** The BIP341 (key path) or BIP342 (leaf) signature message: what the MuSig2 session signs. */
  readonly message: Uint8Array;
  /** The x-only key the final signature verifies under: the output key, or the key in the leaf. */
  readonly verifyKey: Uint8Array;
  /** The leaf executed; undefined on the key path. */
  readonly leaf: PlannedLeaf | undefined;
  /** The input already carries this path's signature, checked valid. */
  readonly signed: boolean;
}

export interface PsbtSigningPlan {
  /** The path every input is spent along. */
  readonly path: SpendPath;
  /** The path's signers in KeySort order (all n on the key path): a signer's index is its position here. */
  readonly participants: readonly Uint8Array[];
  /** The untweaked aggregate of the participants (33 bytes), the key PSBT_IN_MUSIG2_PARTICIPANT_PUBKEYS is keyed by. */
  readonly aggregateKey: Uint8Array;
  readonly inputs: readonly PlannedInput[];
  /** inputs[i].message, in input order: the messages of the signing session. */
  readonly messages: readonly Uint8Array[];
  /** approvalDigest of the transaction: what the user approved must be this. */
  readonly digest: Uint8Array;
}

function refusedError(tx: Transaction, reasons: { index: number; code: string; reason: string }[]): CosignerError {
  const first = reasons[0] as { index: number; code: string; reason: string };
  const listed = reasons.slice(0, 4).map((r) => `input ${r.index}: ${r.reason}`);
  const more = reasons.length > 4 ? `; and ${reasons.length - 4} more` : '';
  return new CosignerError('PSBT_REFUSED', `nothing is signed: ${listed.join('; ')}${more}`, {
    input: first.index,
    code: first.code,
    refused: reasons.length,
    inputs: tx.inputsLength,
  });
}

/** The signature the input carries for this path already (PSBT_IN_TAP_KEY_SIG, or the leaf's PSBT_IN_TAP_SCRIPT_SIG). */
export function existingSignature(
  tx: Transaction,
  index: number,
  verifyKey: Uint8Array,
  leaf: PlannedLeaf | undefined,
): Uint8Array | undefined {
  const input = tx.getInput(index);
  if (leaf === undefined) return input.tapKeySig;
  return input.tapScriptSig?.find(([k]) => equalBytes(k.pubKey, verifyKey) && equalBytes(k.leafHash, leaf.leafHash))?.[1];
}

function checkedSignature(
  tx: Transaction,
  index: number,
  verifyKey: Uint8Array,
  leaf: PlannedLeaf | undefined,
  sighashType: number,
  message: Uint8Array,
): boolean {
  const existing = existingSignature(tx, index, verifyKey, leaf);
  if (!existing) return false;
  const expectedLength = sighashType === SIGHASH_DEFAULT ? 64 : 65;
  const valid =
    existing.length === expectedLength &&
    (expectedLength === 64 || existing[64] === sighashType) &&
    schnorr.verify(existing.subarray(0, 64), message, verifyKey);
  if (!valid) {
    const what = leaf ? 'script-path' : 'key-path';
    throw new CosignerError('PSBT_REFUSED', `nothing is signed: input ${index} carries a ${what} signature that does not verify`, {
      input: index,
      code: 'bad-signature',
    });
  }
  return true;
}

interface SignableInput {
  readonly index: number;
  readonly sighashType: number;
  readonly key: PsbtInputKey;
  readonly verifyKey: Uint8Array;
  readonly leaf: PlannedLeaf | undefined;
}

/** The plan of a PSBT every input of which was classified signable: each input's message and its
 *  signature, if it carries one already. */
function planOf(
  tx: Transaction,
  path: SpendPath,
  participants: readonly Uint8Array[],
  aggregateKey: Uint8Array,
  own: readonly SignableInput[],
): PsbtSigningPlan {
  // Throws for outputs that spend more than the inputs: no one signs such a transaction.
  feeOf(tx);
  const sighasher = new TaprootSighasher(tx, prevoutsOf(tx));
  const inputs = own.map((c): PlannedInput => {
    const message = sighasher.message(c.index, c.sighashType, c.leaf?.leafHash);
    return Object.freeze({
      index: c.index,
      key: c.key,
      sighashType: c.sighashType,
      message,
      verifyKey: c.verifyKey,
      leaf: c.leaf,
      signed: checkedSignature(tx, c.index, c.verifyKey, c.leaf, c.sighashType, message),
    });
  });
  return Object.freeze({
    path,
    participants,
    aggregateKey,
    inputs: Object.freeze(inputs),
    messages: Object.freeze(inputs.map((i) => i.message)),
    digest: approvalDigest(
      tx,
      inputs.map((i) => i.sighashType),
    ),
  });
}

/**
 * The signing plan of a PSBT for this group, or PSBT_REFUSED (nothing signed) naming every input
 * that is not the group's to spend by its key path.
 */
export function planPsbtSigning(imported: ImportedPsbt, keys: GroupKeys, options: ClassifyOptions = {}): PsbtSigningPlan {
  const { tx } = imported;
  const classes = classifyInputs(imported, keys, options);
  const reasons = classes.flatMap((c) => (c.status === 'refused' ? [{ index: c.index, code: c.code, reason: c.reason }] : []));
  if (reasons.length > 0) throw refusedError(tx, reasons);
  const own = classes.flatMap((c) =>
    c.status === 'ours' ? [{ index: c.index, sighashType: c.sighashType, key: c.key, verifyKey: c.key.outputKey, leaf: undefined }] : [],
  );
  return planOf(tx, KEY_PATH, keys.group.publicKeys, keys.group.aggregateKey, own);
}

/**
 * The signing plan of a PSBT for a group with a policy (spend-keys.ts) along `path`: each input's key
 * is the path's key at the input's derivation (pathKey), its message BIP341's on the key path and
 * BIP342's (with the leaf hash) on a leaf. PSBT_REFUSED (nothing signed) naming every input that is
 * not the group's to spend along this path. A single-key recovery leaf has no MuSig2 signers: it is
 * signed locally (psbt-recovery.ts), never planned for a session.
 */
export function planPathSigning(imported: ImportedPsbt, spend: SpendKeys, path: SpendPath, options: ClassifyOptions = {}): PsbtSigningPlan {
  const { tx } = imported;
  const own = pathInputs(imported, spend, path, options);
  const first = own[0]?.key as OwnPathInput['key'];
  if (first.ctx === undefined) {
    throw new CosignerError('INVALID_INPUT', 'a single recovery key signs alone, without a session (psbt.signRecovery)', {
      leaf: path.kind === 'leaf' ? path.leaf : -1,
    });
  }
  const participants = first.signers;
  return planOf(
    tx,
    path,
    participants,
    spend.aggregate(participants).aggregateKey,
    own.map((c) => ({
      index: c.index,
      sighashType: c.sighashType,
      key: {
        path: c.key.output.path,
        signingCtx: c.key.ctx as KeyAggContext,
        internalKey: c.key.output.internalKey,
        outputKey: c.key.output.outputKey,
      },
      verifyKey: c.key.verifyKey,
      leaf: c.key.leaf && { script: c.key.leaf.script, controlBlock: c.key.leaf.controlBlock, leafHash: c.key.leaf.leafHash },
    })),
  );
}

/** Every input classified along `path`, or PSBT_REFUSED naming every input that is not. */
export function pathInputs(imported: ImportedPsbt, spend: SpendKeys, path: SpendPath, options: ClassifyOptions = {}): OwnPathInput[] {
  const classes = classifyPathInputs(imported, spend, path, options);
  const reasons = classes.flatMap((c) => (c.status === 'refused' ? [{ index: c.index, code: c.code, reason: c.reason }] : []));
  if (reasons.length > 0) throw refusedError(imported.tx, reasons);
  return classes as OwnPathInput[];
}

/** PSBT_MISMATCH unless the plan's transaction is the one the user approved (its review digest). */
export function assertApproved(plan: PsbtSigningPlan, approvedDigestHex: string): void {
  if (bytesToHex(plan.digest) !== approvedDigestHex) {
    throw new CosignerError(
      'PSBT_MISMATCH',
      'this PSBT is not the transaction that was approved: an input, output, amount or sighash differs',
    );
  }
}

/** Fresh nonces for every planned input, each bound to its input's signing key and message. */
export function makePsbtNonces(
  plan: PsbtSigningPlan,
  secretKey: Uint8Array,
  extraIn?: (inputIndex: number) => Uint8Array,
): { publicNonces: Uint8Array[]; secretNonces: SecretNonce[] } {
  const publicKey = publicKeyOf(secretKey);
  const made = plan.inputs.map((input) =>
    generateNonce({
      secretKey,
      publicKey,
      ctx: input.key.signingCtx,
      message: input.message,
      ...(extraIn ? { extraIn: extraIn(input.index) } : {}),
    }),
  );
  return { publicNonces: made.map((m) => m.publicNonce), secretNonces: made.map((m) => m.secretNonce) };
}

/**
 * The signing batch of a set of planned inputs: the engine's SigningBatch once per signing context
 * (inputs of one derivation path share one), behind the same interface with message index = the
 * position in `inputs`. Errors from the engine gain `context.input`, the PSBT input index.
 */
export class PsbtSigningBatch {
  readonly size: number;
  readonly #inputs: readonly PlannedInput[];
  readonly #groups: readonly { readonly positions: readonly number[]; readonly batch: SigningBatch }[];
  readonly #where: readonly { readonly group: number; readonly at: number }[];

  constructor(inputs: readonly PlannedInput[], publicNonces: readonly (readonly Uint8Array[])[] /* [signer][position] */) {
    if (inputs.length === 0) throw new CosignerError('INVALID_INPUT', 'nothing to sign');
    if (!Array.isArray(publicNonces)) throw new CosignerError('INVALID_INPUT', 'expected one list of public nonces per signer');
    this.#inputs = inputs;
    const byContext = new Map<KeyAggContext, number[]>();
    inputs.forEach((input, position) => {
      const list = byContext.get(input.key.signingCtx) ?? [];
      list.push(position);
      byContext.set(input.key.signingCtx, list);
    });
    const where: { group: number; at: number }[] = [];
    this.#groups = [...byContext.entries()].map(([ctx, positions], group) => {
      positions.forEach((position, at) => (where[position] = { group, at }));
      const batch = this.#translated(
        positions,
        () =>
          new SigningBatch(
            ctx,
            positions.map((p) => (inputs[p] as PlannedInput).message),
            publicNonces.map((list) => {
              if (!Array.isArray(list) || list.length !== inputs.length) {
                throw new CosignerError('INVALID_PUBLIC_NONCE', 'expected one public nonce per input');
              }
              return positions.map((p) => list[p] as Uint8Array);
            }),
          ),
      );
      return { positions, batch };
    });
    this.#where = where;
    this.size = inputs.length;
  }

  // Engine errors name a message index within one group; callers think in positions and inputs.
  #translated<T>(positions: readonly number[], run: () => T): T {
    try {
      return run();
    } catch (e) {
      if (e instanceof CosignerError && typeof e.context.messageIndex === 'number') {
        const position = positions[e.context.messageIndex] as number;
        const input = (this.#inputs[position] as PlannedInput).index;
        throw new CosignerError(e.code, e.message, { ...e.context, messageIndex: position, input }, { cause: e });
      }
      throw e;
    }
  }

  /** This signer's partial signature for every input (in position order), consuming its secret nonces. */
  sign(signerIndex: number, secretKey: Uint8Array, secretNonces: readonly SecretNonce[]): Uint8Array[] {
    if (!Array.isArray(secretNonces) || secretNonces.length !== this.size) {
      throw new CosignerError('INVALID_INPUT', 'expected one secret nonce per input', { expected: this.size });
    }
    if (new Set(secretNonces).size !== secretNonces.length) {
      throw new CosignerError('NONCE_REUSED', 'the same secret nonce is given for two inputs');
    }
    const out: Uint8Array[] = [];
    for (const { positions, batch } of this.#groups) {
      const partials = this.#translated(positions, () =>
        batch.sign(
          signerIndex,
          secretKey,
          positions.map((p) => secretNonces[p] as SecretNonce),
        ),
      );
      positions.forEach((p, at) => (out[p] = partials[at] as Uint8Array));
    }
    return out;
  }

  verifyPartial(signerIndex: number, position: number, partialSig: Uint8Array): boolean {
    const where = this.#where[position];
    if (!where) throw new CosignerError('INVALID_INPUT', 'no input at this position', { messageIndex: position });
    return (this.#groups[where.group] as { batch: SigningBatch }).batch.verifyPartial(signerIndex, where.at, partialSig);
  }

  /** One final BIP340 signature per input; an invalid partial signature throws naming signer and input. */
  aggregate(partialSigs: readonly (readonly Uint8Array[])[] /* [signer][position] */): Uint8Array[] {
    if (!Array.isArray(partialSigs)) throw new CosignerError('INVALID_INPUT', 'expected one list of partial signatures per signer');
    const out: Uint8Array[] = [];
    for (const { positions, batch } of this.#groups) {
      const signatures = this.#translated(positions, () =>
        batch.aggregate(
          partialSigs.map((list) => {
            if (!Array.isArray(list) || list.length !== this.size) {
              throw new CosignerError('INVALID_PARTIAL_SIGNATURE', 'expected one partial signature per input');
            }
            return positions.map((p) => list[p] as Uint8Array);
          }),
        ),
      );
      positions.forEach((p, at) => (out[p] = signatures[at] as Uint8Array));
    }
    return out;
  }
}

function planned(plan: PsbtSigningPlan, values: readonly Uint8Array[], what: string): void {
  if (!Array.isArray(values) || values.length !== plan.inputs.length) {
    throw new CosignerError('INVALID_INPUT', `expected one ${what} per input`, { expected: plan.inputs.length });
  }
}

function update(tx: Transaction, index: number, fields: Parameters<Transaction['updateInput']>[1]): void {
  try {
    tx.updateInput(index, fields);
  } catch (e) {
    throw new CosignerError(
      'INVALID_INPUT',
      `input ${index}: the PSBT already holds a different value (${(e as Error).message})`,
      { input: index },
      { cause: e },
    );
  }
}

export interface FinalTransaction {
  /** The finalized PSBT (every input with its final witness), binary and base64. */
  readonly psbt: Uint8Array;
  readonly psbtBase64: string;
  /** The network-serialized transaction, ready to broadcast. */
  readonly rawTx: Uint8Array;
  readonly rawTxHex: string;
  readonly txid: string;
}

export interface Bip373Progress {
  /** [signerIndex][position]: each signer's public nonce for each planned input, if the PSBT has it. */
  readonly pubNonces: readonly (readonly (Uint8Array | undefined)[])[];
  readonly partialSigs: readonly (readonly (Uint8Array | undefined)[])[];
}

/** The BIP373 nonces and partial signatures the PSBT holds for this plan's signing keys. */
export function readBip373Progress(tx: Transaction, plan: PsbtSigningPlan): Bip373Progress {
  const find = (
    rows:
      readonly (readonly [{ participantPubkey: Uint8Array; aggregatePubkey: Uint8Array; leafHash?: Uint8Array }, Uint8Array])[] | undefined,
    participant: Uint8Array,
    signingKey: Uint8Array,
    leafHash: Uint8Array | undefined,
  ) =>
    rows?.find(
      ([k]) =>
        (k.leafHash === undefined ? leafHash === undefined : leafHash !== undefined && equalBytes(k.leafHash, leafHash)) &&
        equalBytes(k.participantPubkey, participant) &&
        equalBytes(k.aggregatePubkey, signingKey),
    )?.[1];
  return {
    pubNonces: plan.participants.map((participant) =>
      plan.inputs.map((input) =>
        find(tx.getInput(input.index).musig2PubNonce, participant, input.key.signingCtx.aggregateKey, input.leaf?.leafHash),
      ),
    ),
    partialSigs: plan.participants.map((participant) =>
      plan.inputs.map((input) =>
        find(tx.getInput(input.index).musig2PartialSig, participant, input.key.signingCtx.aggregateKey, input.leaf?.leafHash),
      ),
    ),
  };
}

/**
 * Finalizer role for a PSBT whose BIP373 nonces and partial signatures are all present (from any
 * tool): every partial signature is checked (an invalid one is named by signer and input), and the
 * aggregates become the final witnesses of the finalized PSBT and transaction (finalizeKeyPath).
 */
export function completePsbt(imported: ImportedPsbt, plan: PsbtSigningPlan): FinalTransaction {
  return namingSigner(plan.participants, () => complete(imported, plan));
}

function complete(imported: ImportedPsbt, plan: PsbtSigningPlan): FinalTransaction {
  const { tx } = imported;
  const progress = readBip373Progress(tx, plan);
  const open = plan.inputs.map((input, position) => ({ input, position })).filter(({ input }) => !input.signed);
  let aggregated: Uint8Array[] = [];
  if (open.length > 0) {
    const missing = (rows: Bip373Progress['pubNonces'], what: string) =>
      rows.forEach((row, signerIndex) =>
        open.forEach(({ input, position }) => {
          if (!row[position]) {
            throw new CosignerError('INVALID_INPUT', `input ${input.index} has no ${what} from signer ${signerIndex}`, {
              input: input.index,
              signerIndex,
            });
          }
        }),
      );
    missing(progress.pubNonces, 'public nonce');
    missing(progress.partialSigs, 'partial signature');
    const column = (rows: Bip373Progress['pubNonces']) => rows.map((row) => open.map(({ position }) => row[position] as Uint8Array));
    const batch = new PsbtSigningBatch(
      open.map(({ input }) => input),
      column(progress.pubNonces),
    );
    aggregated = batch.aggregate(column(progress.partialSigs));
  }
  const signatures = plan.inputs.map((input, position) => {
    const k = open.findIndex((o) => o.position === position);
    return k >= 0
      ? (aggregated[k] as Uint8Array)
      : (existingSignature(tx, input.index, input.verifyKey, input.leaf) as Uint8Array).subarray(0, 64);
  });
  return finalizeKeyPath(imported.bytes, tx, plan, signatures);
}

/** The signer an error names by its position among the plan's participants, named by key too. */
function namingSigner<T>(participants: readonly Uint8Array[], run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (!isCosignerError(e) || typeof e.context.signerIndex !== 'number') throw e;
    const index = e.context.signerIndex;
    const key = participants[index];
    if (key === undefined) throw e;
    const input = typeof e.context.input === 'number' && !e.message.startsWith('input ') ? `input ${e.context.input}, ` : '';
    const named = e.message.includes(`signer ${index}`) ? '' : `signer ${index}, `;
    const signer = bytesToHex(key);
    throw new CosignerError(e.code, `${e.message} (${input}${named}key ${signer})`, { ...e.context, signer }, { cause: e });
  }
}
