/**
 * Sessions whose payload is a PSBT (docs/PROTOCOL.md §PSBT payload). The announcement carries the
 * PSBT's bytes; every signer, the creator included, imports and reviews them itself before anything
 * is shown, and computes from them what it signs: the BIP341 key-path message of every input. For a
 * legacy request the group is the announcement's signer set, all of whom sign (n-of-n); a PSBT one of
 * whose inputs that group cannot spend by its key path is refused whole, with a reason per input. A
 * request naming a group with a policy and a path (intakePathPsbt) signs along that path: the key
 * path of all n, or a leaf (BIP342 messages, BIP373 fields keyed by leaf hash, witnesses carrying the
 * leaf script and control block); its signers are the path's.
 *
 * This node's copy of the PSBT carries the BIP373 fields as the rounds progress: the participants
 * from the start, then every public nonce and partial signature as the session's state gains them
 * (`progress`, at each change of state), those of an earlier attempt removed, so another BIP373
 * tool can take over at any point. They are written on the PSBT's raw maps (Bip373Copy), each once:
 * linear in inputs × signers, a few milliseconds for 100 inputs and 3 signers
 * (test/bench/psbt.bench.ts). At completion the aggregate signatures become the final witnesses of
 * the announced PSBT, finalized into a broadcastable transaction.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import type { Transaction } from '@scure/btc-signer';
import { z } from 'zod';
import {
  PsbtReview as PsbtReviewSchema,
  SignedTransaction as SignedTransactionSchema,
  type BitcoinNetwork,
  type Group,
  type PsbtReview as PsbtReviewView,
  type PsbtSessionView,
  type SignedTransaction,
} from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { groupKeyAgg } from '../wallet/group.ts';
import { GroupKeys } from '../wallet/group-keys.ts';
import { Bip373Copy } from '../wallet/bip373-copy.ts';
import { finalizeKeyPath } from '../wallet/psbt-finalize.ts';
import { importPsbt, type ClassifyOptions, type ImportedPsbt } from '../wallet/psbt-import.ts';
import { psbtAsVersion } from '../wallet/psbt-export.ts';
import { PSBT_MAGIC } from '../wallet/psbt-maps.ts';
import { reviewPathPsbt, reviewPsbt, type PsbtReview } from '../wallet/psbt-review.ts';
import { assertApproved, completePsbt, planPathSigning, planPsbtSigning, type PsbtSigningPlan } from '../wallet/psbt-signing.ts';
import { groupOutputs } from '../wallet/policy-group.ts';
import { SpendKeys } from '../wallet/spend-keys.ts';
import type { SpendPath } from '../wallet/spend-path.ts';
import { checkSessionSize } from './announcement.ts';
import type { AnnouncementBody, BatchItem, NonceEvidence, PsbtPayload } from './codec.ts';
import { psbtSessionKeys, type SessionKeys } from './session-crypto.ts';
import type { SessionState } from './state.ts';

/** Groups whose derived keys are remembered (each GroupKeys caches up to 1024 derivations). */
export const MAX_CACHED_GROUPS = 16;
/** Refused inputs named in an error message; the review lists them all. */
const MAX_LISTED_REFUSALS = 6;

/**
 * One GroupKeys per signer set, so that a group's BIP328 derivations (an engine key aggregation
 * each) are made once, whoever asks: the coordinator's intake, a review, the wallet view.
 */
export class GroupKeysCache {
  readonly #groups = new Map<string, GroupKeys>();

  /** The keys of the group of `publicKeys` (33-byte keys or hex, any order). */
  of(publicKeys: readonly (Uint8Array | string)[]): GroupKeys {
    const hexes = publicKeys.map((key) => (typeof key === 'string' ? key.toLowerCase() : bytesToHex(key))).sort();
    const id = hexes.join(',');
    const cached = this.#groups.get(id);
    if (cached) {
      // Most recently used last, so the least recently used leaves first.
      this.#groups.delete(id);
      this.#groups.set(id, cached);
      return cached;
    }
    const keys = new GroupKeys(groupKeyAgg(hexes));
    if (this.#groups.size >= MAX_CACHED_GROUPS) this.#groups.delete(this.#groups.keys().next().value as string);
    this.#groups.set(id, keys);
    return keys;
  }
}

/**
 * One SpendKeys per group with a policy (by id and network), so a group's outputs and path keys at
 * BIP328 derivations are derived once, whoever asks: a session's intake, a review, a recovery.
 */
export class SpendKeysCache {
  readonly #groups = new Map<string, SpendKeys>();

  of(group: Pick<Group, 'id' | 'publicKeys' | 'policy' | 'network'>): SpendKeys {
    const id = `${group.id}:${group.network}`;
    const cached = this.#groups.get(id);
    if (cached) {
      this.#groups.delete(id);
      this.#groups.set(id, cached);
      return cached;
    }
    const spend = new SpendKeys(groupOutputs(group), group.network);
    if (this.#groups.size >= MAX_CACHED_GROUPS) this.#groups.delete(this.#groups.keys().next().value as string);
    this.#groups.set(id, spend);
    return spend;
  }
}

/** The review as the contract shows it (plain JSON, exactly the contract's fields). */
export function reviewView(review: PsbtReview): PsbtReviewView {
  return {
    network: review.network,
    psbtVersion: review.psbtVersion,
    txVersion: review.txVersion,
    lockTime: review.lockTime,
    inputs: review.inputs.map((i) => ({
      index: i.index,
      txid: i.txid,
      vout: i.vout,
      amount: i.amount,
      address: i.address,
      path: i.path ? [...i.path] : null,
      sighash: i.sighash,
      refusal: i.refusal ? { code: i.refusal.code, reason: i.refusal.reason } : null,
    })),
    outputs: review.outputs.map((o) => ({
      index: o.index,
      amount: o.amount,
      address: o.address,
      script: o.script,
      kind: o.kind,
      isChange: o.isChange,
      changePath: o.changePath ? [...o.changePath] : null,
    })),
    totalIn: review.totalIn,
    totalOut: review.totalOut,
    sent: review.sent,
    fee: review.fee,
    weight: review.weight,
    vsize: review.vsize,
    feeRate: review.feeRate,
    signable: review.signable,
    digest: review.digest,
    warnings: [...review.warnings],
  };
}

/** PSBT_REFUSED naming the inputs the group cannot sign and why (all of them are in the review). */
function refusal(review: PsbtReview): CosignerError {
  const refused = review.inputs.filter((i) => i.refusal !== null);
  const first = refused[0];
  const listed = refused.slice(0, MAX_LISTED_REFUSALS).map((i) => `input ${i.index}: ${i.refusal?.reason ?? ''}`);
  const more = refused.length > MAX_LISTED_REFUSALS ? `; and ${refused.length - MAX_LISTED_REFUSALS} more` : '';
  return new CosignerError('PSBT_REFUSED', `this group cannot sign every input, so nothing is signed: ${listed.join('; ')}${more}`, {
    input: first?.index,
    code: first?.refusal?.code,
    refused: refused.length,
    inputs: review.inputs.length,
  });
}

/** Imports and reviews a PSBT for a group; INVALID_PSBT (with its reason) when it cannot be read. */
export function reviewFor(
  psbt: string | Uint8Array,
  keys: GroupKeys,
  network: BitcoinNetwork,
  options: ClassifyOptions = {},
): { imported: ImportedPsbt; review: PsbtReview } {
  const imported = importPsbt(psbt);
  return { imported, review: reviewPsbt(imported, keys, network, options) };
}

/**
 * A PSBT this group can sign, imported, reviewed and planned: INVALID_PSBT when it cannot be read,
 * PSBT_REFUSED (the review's reason per input) unless every input is the group's to spend by its
 * taproot key path. One path for a session's intake and for completing a PSBT another tool signed.
 */
export function signablePsbt(
  psbt: string | Uint8Array,
  keys: GroupKeys,
  network: BitcoinNetwork,
  options: ClassifyOptions = {},
): { imported: ImportedPsbt; review: PsbtReview; plan: PsbtSigningPlan } {
  const { imported, review } = reviewFor(psbt, keys, network, options);
  if (!review.signable) throw refusal(review);
  const plan = planPsbtSigning(imported, keys, options);
  // The review and the plan are computed from one import; the plan must sign what the review shows.
  assertApproved(plan, review.digest as string);
  return { imported, review, plan };
}

/** A PSBT of the group whose co-signers' BIP373 partial signatures another tool collected,
 *  reviewed as for signing, then checked, aggregated and finalized (completePsbt). */
export function completeGroupPsbt(
  psbt: string | Uint8Array,
  keys: GroupKeys,
  network: BitcoinNetwork,
  options: ClassifyOptions = {},
): SignedTransaction {
  const { imported, plan } = signablePsbt(psbt, keys, network, options);
  const { psbtBase64, rawTxHex, txid } = completePsbt(imported, plan);
  return { psbtBase64, rawTxHex, txid };
}

/** A group with a policy and the path a request signs along (spend-path.ts). */
export interface PathTarget {
  readonly spend: SpendKeys;
  readonly path: SpendPath;
}

/** Imports and reviews a PSBT for a group with a policy along `target.path`. */
export function reviewPathFor(
  psbt: string | Uint8Array,
  target: PathTarget,
  options: ClassifyOptions = {},
): { imported: ImportedPsbt; review: PsbtReview } {
  const imported = importPsbt(psbt);
  return { imported, review: reviewPathPsbt(imported, target.spend, target.path, target.spend.network, options) };
}

/** signablePsbt for a group with a policy along `target.path`: every input the group's along it. */
export function signablePathPsbt(
  psbt: string | Uint8Array,
  target: PathTarget,
  options: ClassifyOptions = {},
): { imported: ImportedPsbt; review: PsbtReview; plan: PsbtSigningPlan } {
  const { imported, review } = reviewPathFor(psbt, target, options);
  if (!review.signable) throw refusal(review);
  const plan = planPathSigning(imported, target.spend, target.path, options);
  assertApproved(plan, review.digest as string);
  return { imported, review, plan };
}

/** completeGroupPsbt for a group with a policy: the BIP373 fields of `target.path` (leaf hashes
 *  included on a leaf) checked, aggregated and finalized. */
export function completePathPsbt(psbt: string | Uint8Array, target: PathTarget, options: ClassifyOptions = {}): SignedTransaction {
  const { imported, plan } = signablePathPsbt(psbt, target, options);
  const { psbtBase64, rawTxHex, txid } = completePsbt(imported, plan);
  return { psbtBase64, rawTxHex, txid };
}

export interface PsbtIntake {
  readonly imported: ImportedPsbt;
  readonly review: PsbtReview;
  readonly plan: PsbtSigningPlan;
  /** The key a snapshot names (SessionKeys.signingKey): the group's own output key on the key path,
   *  the path's key at the group's own output on a leaf. */
  readonly signingKey: Uint8Array;
}

/** intakePsbt's checks of the network and of the binary form. */
function checkPayload(payload: PsbtPayload, localNetwork: BitcoinNetwork | undefined): void {
  if (localNetwork !== undefined && payload.network !== localNetwork) {
    throw new CosignerError('PSBT_REFUSED', `the transaction is for ${payload.network}; this node is set to ${localNetwork}`, {
      network: payload.network,
    });
  }
  // One PSBT, one encoding: the payload is the binary form (a creator decodes base64 or hex first).
  if (!PSBT_MAGIC.every((byte, i) => payload.psbt[i] === byte)) {
    throw new CosignerError('INVALID_PSBT', 'not a PSBT: a request carries the binary PSBT (70736274ff…)');
  }
}

/**
 * intakePsbt for a request that names a group with a policy and a path: the same checks, with the
 * plan's signers the path's (all n, a leaf's k, or the recovery keys), which must be the
 * announcement's `signers`. The caller looked the group up by id in its own GroupBook.
 */
export function intakePathPsbt(
  payload: PsbtPayload,
  signers: readonly Uint8Array[],
  target: PathTarget,
  localNetwork: BitcoinNetwork | undefined,
  localAllowsNonDefaultSighash = false,
): PsbtIntake {
  checkPayload(payload, localNetwork);
  if (payload.network !== target.spend.network) {
    throw new CosignerError('PSBT_REFUSED', `the transaction is for ${payload.network}; the group is on ${target.spend.network}`, {
      network: payload.network,
    });
  }
  const options = { allowNonDefaultSighash: payload.allowNonDefaultSighash, localAllowsNonDefaultSighash };
  const { imported, review, plan } = signablePathPsbt(payload.psbt, target, options);
  checkSessionSize(signers.length, plan.messages.length);
  return { imported, review, plan, signingKey: target.spend.key([], target.path).verifyKey };
}

/**
 * Everything a signer checks of a PSBT payload before the request may be shown (and the creator
 * before sending it): the network is this node's, if it has one; the PSBT reads (INVALID_PSBT);
 * every input is the group's to spend by its taproot key path (PSBT_REFUSED, per input); and the
 * signing plan is the reviewed transaction. The group is the signer set.
 */
export function intakePsbt(
  payload: PsbtPayload,
  signers: readonly Uint8Array[],
  cache: GroupKeysCache,
  localNetwork: BitcoinNetwork | undefined,
  /** This node's policy on non-DEFAULT sighash types (ClassifyOptions); refuse unless set. */
  localAllowsNonDefaultSighash = false,
): PsbtIntake {
  checkPayload(payload, localNetwork);
  const keys = cache.of(signers);
  const options = { allowNonDefaultSighash: payload.allowNonDefaultSighash, localAllowsNonDefaultSighash };
  const { imported, review, plan } = signablePsbt(payload.psbt, keys, payload.network, options);
  checkSessionSize(signers.length, plan.messages.length);
  return { imported, review, plan, signingKey: keys.base.outputKey };
}

/** The display text of each input's message (what the snapshot lists next to each sighash). */
function labelsOf(review: PsbtReviewView): string[] {
  return review.inputs.map((i) => `input ${i.index}: ${i.txid}:${i.vout}, ${i.amount ?? '?'} sat`);
}

/** The stored form (docs/PROTOCOL.md §Persistence): public data only. */
export const StoredPsbt = z.object({
  review: PsbtReviewSchema,
  /** Each input's signature message and the x-only key it verifies under, so a finished session's
   *  signatures are checked at load without deriving keys again. */
  messages: z.array(z.string().regex(/^[0-9a-f]{64}$/)).min(1),
  outputKeys: z.array(z.string().regex(/^[0-9a-f]{64}$/)).min(1),
  transaction: SignedTransactionSchema.nullable(),
});
export type StoredPsbt = z.infer<typeof StoredPsbt>;

interface Work {
  readonly plan: PsbtSigningPlan;
  /** The engine's view of the announced PSBT: what the final signatures are checked against. */
  readonly tx: Transaction;
  readonly keys: SessionKeys;
  /** This node's copy, with the BIP373 fields of `written`. */
  readonly copy: Bip373Copy;
  /** What the copy holds: the attempt, and per signer (announcement index) the nonces and partial
   *  signatures of the state it was last brought to. */
  written: { attempt: number; nonces: (NonceEvidence | undefined)[]; partials: (readonly Uint8Array[] | undefined)[] };
}

/** The PSBT side of one session. A finished session restored from the store has no plan. */
export class PsbtSession {
  readonly review: PsbtReviewView;
  readonly allowNonDefaultSighash: boolean;
  readonly messages: readonly Uint8Array[];
  readonly verifyKeys: readonly Uint8Array[];
  /** Each input's message with its outpoint and amount as label. */
  readonly items: readonly BatchItem[];
  #transaction: SignedTransaction | null;
  /** Dropped once the transaction is final. */
  #work: Work | undefined;
  readonly #announced: Uint8Array;

  private constructor(
    body: AnnouncementBody,
    review: PsbtReviewView,
    messages: readonly Uint8Array[],
    verifyKeys: readonly Uint8Array[],
    transaction: SignedTransaction | null,
    work: Work | undefined,
  ) {
    this.review = review;
    this.allowNonDefaultSighash = (body.payload as PsbtPayload).allowNonDefaultSighash;
    this.messages = messages;
    this.verifyKeys = verifyKeys;
    const labels = labelsOf(review);
    this.items = messages.map((message, i) => ({ message, label: labels[i] ?? '' }));
    this.#transaction = transaction;
    this.#work = work;
    this.#announced = (body.payload as PsbtPayload).psbt;
  }

  /** A session that will sign, from its intake. */
  static open(body: AnnouncementBody, intake: PsbtIntake): PsbtSession {
    const { plan, imported } = intake;
    const none = body.signers.map(() => undefined);
    const work: Work = {
      plan,
      tx: imported.tx,
      keys: psbtSessionKeys(body, plan, intake.signingKey),
      copy: new Bip373Copy((body.payload as PsbtPayload).psbt, plan),
      written: { attempt: 0, nonces: [...none], partials: [...none] },
    };
    return new PsbtSession(body, reviewView(intake.review), plan.messages, work.keys.verifyKeys, null, work);
  }

  /** A session read back from its record without signing again (it is finished). */
  static stored(body: AnnouncementBody, stored: StoredPsbt): PsbtSession {
    if (stored.messages.length !== stored.outputKeys.length || stored.messages.length !== stored.review.inputs.length) {
      throw new CosignerError('INVALID_INPUT', 'the stored PSBT fields contradict each other');
    }
    const bytes = (list: readonly string[]) => list.map((h) => hexToBytes(h));
    return new PsbtSession(body, stored.review, bytes(stored.messages), bytes(stored.outputKeys), stored.transaction, undefined);
  }

  /** The stored review and messages must be what this node computes from the PSBT again. */
  matches(stored: StoredPsbt): boolean {
    return (
      stored.review.digest === this.review.digest &&
      stored.messages.length === this.messages.length &&
      stored.messages.every((m, i) => m === bytesToHex(this.messages[i] as Uint8Array))
    );
  }

  get view(): PsbtSessionView {
    return { review: this.review, allowNonDefaultSighash: this.allowNonDefaultSighash, transaction: this.#transaction };
  }

  toStored(): StoredPsbt {
    return {
      review: this.review,
      messages: this.messages.map((m) => bytesToHex(m)),
      outputKeys: this.verifyKeys.map((k) => bytesToHex(k)),
      transaction: this.#transaction,
    };
  }

  /**
   * Brings this node's copy to `state`: the public nonces and partial signatures it holds of the
   * current attempt are written, each signer's once, and those of an earlier attempt removed.
   * Idempotent; nothing for a finished session.
   */
  progress(state: SessionState): void {
    const work = this.#work;
    if (!work) return;
    const { copy, keys, written } = work;
    if (state.attempt !== written.attempt) {
      copy.clearProgress();
      written.attempt = state.attempt;
      written.nonces.fill(undefined);
      written.partials.fill(undefined);
    }
    state.nonces.forEach((evidence, index) => {
      if (evidence === written.nonces[index]) return;
      copy.setPubNonces(keys.position[index] as number, evidence?.nonces);
      written.nonces[index] = evidence;
    });
    state.partials.forEach((partials, index) => {
      if (partials === written.partials[index]) return;
      copy.setPartialSigs(keys.position[index] as number, partials);
      written.partials[index] = partials;
    });
  }

  /**
   * This node's copy of the PSBT. Finalized once complete; while the session runs, the announced
   * PSBT with the BIP373 fields written so far (see `progress`): the group's participants, and every
   * public nonce and partial signature of this attempt, so another BIP373 tool can take over; a
   * stored session that ended unsigned has what was announced.
   */
  psbt(): Uint8Array {
    if (this.#transaction) return base64.decode(this.#transaction.psbtBase64);
    return this.#work ? this.#work.copy.toPsbt() : this.#announced.slice();
  }

  get keys(): SessionKeys {
    return this.#signing().keys;
  }

  #signing(): Work {
    if (!this.#work) throw new CosignerError('INTERNAL', 'this PSBT session is finished and has no signing plan');
    return this.#work;
  }

  /** The aggregate signatures (one per input, each verified under its output key) as the final
   *  witnesses of the announced PSBT: the BIP174 finalizer and extractor. */
  finish(signatures: readonly Uint8Array[]): void {
    const { plan, tx } = this.#signing();
    const final = finalizeKeyPath(this.#announced, tx, plan, signatures);
    // Handed out as PSBTv0 whatever was announced: Bitcoin Core reads v0 only (sessions.psbt gives v2 on request).
    this.#transaction = { psbtBase64: base64.encode(psbtAsVersion(final.psbt, 0)), rawTxHex: final.rawTxHex, txid: final.txid };
    this.#work = undefined;
  }
}
