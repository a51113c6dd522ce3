/**
 * How a spend built by the wallet (send.ts, bump.ts) spends the group's outputs: the key and the
 * PSBT fields of each output at a BIP328 path, the nSequence of its inputs, and the review every
 * co-signer will run on it. A key-path-only n-of-n group (GroupKeys) carries the internal key and
 * its derivation, as it always has; a group with a policy, spent along a path, carries what a signer
 * of that path needs (psbt-path-fields.ts), and a recovery spend waits out its older(N).
 */
import type { Transaction } from '@scure/btc-signer';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { GroupKeys } from './group-keys.ts';
import type { ImportedPsbt } from './psbt-import.ts';
import { pathInputFields, pathOutputFields } from './psbt-path-fields.ts';
import { reviewPathPsbt, reviewPsbt, type PsbtReview } from './psbt-review.ts';
import type { SpendKeys } from './spend-keys.ts';
import type { SpendPath } from './spend-path.ts';

/** BIP125 opt-in replace-by-fee (below 0xfffffffe): a stuck spend can be replaced at a higher fee. */
export const RBF_SEQUENCE = 0xfffffffd;

type InputFields = Pick<
  Parameters<Transaction['addInput']>[0],
  'tapInternalKey' | 'tapBip32Derivation' | 'tapMerkleRoot' | 'tapLeafScript'
>;
type OutputFields = Pick<Parameters<Transaction['addOutput']>[0], 'tapInternalKey' | 'tapBip32Derivation' | 'tapTree'>;

export interface Spender {
  /** The x-only output key at `path` below the group. */
  outputKey(path: readonly number[]): Uint8Array;
  /** What an input spending the output at `path` carries besides its outpoint and UTXO. */
  inputFields(path: readonly number[]): InputFields;
  /** What a change output at `path` carries besides its script and amount. */
  changeFields(path: readonly number[]): OutputFields;
  /** Every input's nSequence: RBF, or a recovery leaf's older(N) (which signals RBF too, being lower). */
  readonly sequence: number;
  review(imported: ImportedPsbt, network: BitcoinNetwork): PsbtReview;
}

/** A key-path-only n-of-n group: the fields it has always carried. */
export function keyPathSpender(keys: GroupKeys): Spender {
  const fields = (path: readonly number[]) => {
    const key = keys.derive(path);
    return {
      tapInternalKey: key.internalKey,
      tapBip32Derivation: [[key.internalKey, { hashes: [], der: { fingerprint: keys.fingerprint, path: [...key.path] } }]] as NonNullable<
        InputFields['tapBip32Derivation']
      >,
    };
  };
  return {
    outputKey: (path) => keys.derive(path).outputKey,
    inputFields: fields,
    changeFields: fields,
    sequence: RBF_SEQUENCE,
    review: (imported, network) => reviewPsbt(imported, keys, network),
  };
}

/** A group with a policy spent along `path`. */
export function pathSpender(spend: SpendKeys, path: SpendPath): Spender {
  const leaf = path.kind === 'leaf' ? spend.at([]).leaves[path.leaf] : undefined;
  return {
    outputKey: (derivation) => spend.at(derivation).outputKey,
    inputFields: (derivation) => pathInputFields(spend, derivation, path).fields,
    changeFields: (derivation) => pathOutputFields(spend, derivation),
    sequence: leaf?.kind === 'recovery' ? leaf.olderBlocks : RBF_SEQUENCE,
    review: (imported, network) => reviewPathPsbt(imported, spend, path, network),
  };
}

/** GroupKeys as the key-path spender it is; any other spender as given. */
export function spenderOf(keys: GroupKeys | Spender): Spender {
  return keys instanceof GroupKeys ? keyPathSpender(keys) : keys;
}
