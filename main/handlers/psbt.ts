import type { Group } from '../../preload/contract.ts';
import { completeGroupPsbt, reviewFor, reviewView, type GroupKeysCache } from '../session/psbt-session.ts';
import type { Handlers } from './kit.ts';

export interface PsbtDeps {
  /** Throws INVALID_INPUT for an unknown id. */
  group(id: string): Group;
  groupKeys: GroupKeysCache;
  /** The user's setting, read at each call. */
  localAllowsNonDefaultSighash(): boolean;
}

export function psbtHandlers(d: PsbtDeps): Handlers<'psbt.review' | 'psbt.complete'> {
  return {
    'psbt.review': async ({ groupId, psbt, allowNonDefaultSighash }) => {
      const group = d.group(groupId);
      const localAllowsNonDefaultSighash = d.localAllowsNonDefaultSighash();
      return reviewView(
        reviewFor(psbt, d.groupKeys.of(group.publicKeys), group.network, { allowNonDefaultSighash, localAllowsNonDefaultSighash }).review,
      );
    },
    // The finalizer of a PSBT another BIP373 tool co-signed: public data only, so it needs neither
    // the signer key nor the network (it works with the signing stack stopped).
    'psbt.complete': async ({ groupId, psbt, allowNonDefaultSighash }) => {
      const group = d.group(groupId);
      const localAllowsNonDefaultSighash = d.localAllowsNonDefaultSighash();
      return completeGroupPsbt(psbt, d.groupKeys.of(group.publicKeys), group.network, {
        allowNonDefaultSighash,
        localAllowsNonDefaultSighash,
      });
    },
  };
}
