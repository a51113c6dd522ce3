import type { Group, SpendPathInput } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import type { Random, SignerKey } from '../session/ports.ts';
import { systemRandom } from '../system-ports.ts';
import {
  completeGroupPsbt,
  completePathPsbt,
  reviewFor,
  reviewPathFor,
  reviewView,
  SpendKeysCache,
  type GroupKeysCache,
} from '../session/psbt-session.ts';
import { keyPathOnlyGroup } from '../wallet/policy-group.ts';
import { base64AsVersion } from '../wallet/psbt-export.ts';
import { importPsbt } from '../wallet/psbt-import.ts';
import { signRecoveryPsbt, singleKeyRecovery } from '../wallet/psbt-recovery.ts';
import { reviewPathPsbt } from '../wallet/psbt-review.ts';
import { KEY_PATH } from '../wallet/spend-path.ts';
import { requestPath } from './session-path.ts';
import type { Handlers } from './kit.ts';

export interface PsbtDeps {
  /** Throws INVALID_INPUT for an unknown id. */
  group(id: string): Group;
  groupKeys: GroupKeysCache;
  /** Groups with a policy (k-of-n, or a recovery path): their outputs and path keys, cached. */
  spendKeys?: SpendKeysCache;
  /** The user's setting, read at each call. */
  localAllowsNonDefaultSighash(): boolean;
  /** This node's signer key, for the single-key recovery leaf (psbt.signRecovery); KEY_NOT_FOUND when absent. */
  signer?: () => Promise<Pick<SignerKey, 'secretKey'>>;
  /** BIP340's auxiliary randomness. */
  random?: Random;
}

export function psbtHandlers(d: PsbtDeps): Handlers<'psbt.review' | 'psbt.complete' | 'psbt.signRecovery'> {
  const spendKeys = d.spendKeys ?? new SpendKeysCache();
  /** A group with a policy and the path asked for; undefined for a key-path-only n-of-n group (GroupKeys). */
  const target = (group: Group, path: SpendPathInput | undefined) => {
    if (keyPathOnlyGroup(group)) {
      if (path?.kind === 'leaf') throw new CosignerError('INVALID_INPUT', 'this group has no script path: it spends by its key path only');
      return undefined;
    }
    return { spend: spendKeys.of(group), path: requestPath(group, path).group?.path ?? KEY_PATH };
  };
  return {
    'psbt.review': async ({ groupId, psbt, allowNonDefaultSighash, path }) => {
      const group = d.group(groupId);
      const options = { allowNonDefaultSighash, localAllowsNonDefaultSighash: d.localAllowsNonDefaultSighash() };
      const spend = target(group, path);
      const { review } = spend
        ? reviewPathFor(psbt, spend, options)
        : reviewFor(psbt, d.groupKeys.of(group.publicKeys), group.network, options);
      return reviewView(review);
    },
    // The finalizer of a PSBT another BIP373 tool co-signed: public data only, so it needs neither
    // the signer key nor the network (it works with the signing stack stopped).
    'psbt.complete': async ({ groupId, psbt, allowNonDefaultSighash, path, version }) => {
      const group = d.group(groupId);
      const options = { allowNonDefaultSighash, localAllowsNonDefaultSighash: d.localAllowsNonDefaultSighash() };
      const spend = target(group, path);
      const done = spend
        ? completePathPsbt(psbt, spend, options)
        : completeGroupPsbt(psbt, d.groupKeys.of(group.publicKeys), group.network, options);
      return { ...done, psbtBase64: base64AsVersion(done.psbtBase64, version) };
    },
    // One key signs the recovery leaf alone: no session, no network; the signer key only.
    // The transaction signed must be the one the user reviewed: `digest` is the review's (psbt.review
    // with the recovery leaf's path), recomputed here from the PSBT given.
    'psbt.signRecovery': async ({ groupId, psbt, allowNonDefaultSighash, version, digest }) => {
      const group = d.group(groupId);
      const spend = target(group, undefined);
      if (!spend) throw new CosignerError('INVALID_INPUT', 'this group has no recovery path');
      if (!d.signer) throw new CosignerError('KEY_NOT_FOUND', 'set up your signer key first');
      const options = { allowNonDefaultSighash, localAllowsNonDefaultSighash: d.localAllowsNonDefaultSighash() };
      const imported = importPsbt(psbt);
      const review = reviewPathPsbt(imported, spend.spend, singleKeyRecovery(spend.spend).path, group.network, options);
      if (review.digest === null || review.digest !== digest.toLowerCase()) {
        throw new CosignerError(
          'PSBT_MISMATCH',
          'this PSBT is not the transaction that was reviewed: an input, output, amount or sighash differs',
        );
      }
      const random = d.random ?? systemRandom;
      const secretKey = (await d.signer()).secretKey();
      try {
        const final = signRecoveryPsbt(imported, spend.spend, secretKey, () => random.bytes(32), options);
        return { psbtBase64: base64AsVersion(final.psbtBase64, version), rawTxHex: final.rawTxHex, txid: final.txid };
      } finally {
        secretKey.fill(0);
      }
    },
  };
}
