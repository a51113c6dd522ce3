/**
 * The spending path a request names (docs/PROTOCOL.md §Group path). Everything here is recomputed by
 * the node itself from the group its user saved under the named id: which keys sign, under which
 * key, for which address. Nothing of it is taken from the creator but the id and the path; the
 * announcement's signers must then be exactly the path's signers.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { CosignerError, isCosignerError } from '../errors.ts';
import { policyGroupId } from '../wallet/policy-group.ts';
import type { PathKey } from '../wallet/spend-path.ts';
import { equalKeys } from './announcement.ts';
import type { AnnouncementBody } from './codec.ts';
import type { GroupById, SavedGroup } from './ports.ts';
import type { SpendKeysCache } from './psbt-session.ts';

export interface ResolvedPath {
  /** The group's id (hex), as named. */
  readonly groupId: string;
  /** Every key of the group (sorted, hex): those not among the path's signers are not needed. */
  readonly members: readonly string[];
  /** The path's signers, keys and leaf, at the group's own output (derivation `[]`). */
  readonly key: PathKey;
}

/** Whether every key of `signers` is a key of `saved`: a member, or one of its recovery keys. */
export function signersOfSavedGroup(signers: readonly Uint8Array[], saved: SavedGroup | undefined): boolean {
  if (saved === undefined) return false;
  const keys = new Set([...saved.publicKeys, ...(saved.policy?.recovery?.keys ?? [])].map((k) => k.toLowerCase()));
  return signers.every((signer) => keys.has(bytesToHex(signer)));
}

function wrongPath(message: string, context: Record<string, string | number> = {}): CosignerError {
  return new CosignerError('WRONG_PATH', message, context);
}

/**
 * The path of a request with a group section (tweak 'path'), checked against this node's own book.
 * UNKNOWN_GROUP when no group is saved under the id (refused at the door, like any stranger's
 * request); WRONG_PATH when the group has no such path, the path is not one a session can sign, or
 * the announcement's signers are not exactly the path's.
 */
export function resolveGroupPath(
  body: AnnouncementBody,
  groupById: GroupById | undefined,
  network: BitcoinNetwork,
  /** The group's outputs and path keys are derived once, whoever asks (intake, history, PSBT plans). */
  spendKeys: SpendKeysCache,
): ResolvedPath {
  const named = body.group;
  if (named === undefined) throw new CosignerError('INTERNAL', 'this request names no group path');
  const groupId = bytesToHex(named.id);
  const saved = groupById?.(groupId);
  if (saved === undefined) throw new CosignerError('UNKNOWN_GROUP', 'the named group is not saved on this node', { groupId });
  const spend = spendKeys.of({ id: groupId, publicKeys: saved.publicKeys, policy: saved.policy, network });
  const outputs = spend.outputs;
  // The id covers the keys and the policy: a book that answered with another group is not believed.
  if (policyGroupId(outputs.group.publicKeys, outputs.policy) !== groupId) {
    throw new CosignerError('UNKNOWN_GROUP', 'the group saved under this id is another group', { groupId });
  }
  let key: PathKey;
  try {
    key = spend.key([], named.path);
  } catch (e) {
    if (isCosignerError(e, 'INVALID_INPUT')) throw wrongPath(e.message, { groupId });
    throw e;
  }
  // MuSig2 of one key is not that key: a single-key recovery leaf is signed by its key, locally.
  if (key.ctx === undefined) throw wrongPath('a single-key recovery leaf is signed by its key alone, never in a session', { groupId });
  // BIP322's to_sign has version 0 and sequence 0, which no older(N) accepts: such a proof never verifies.
  if (key.leaf?.kind === 'recovery' && body.payload.kind !== 'psbt') {
    throw wrongPath('a message cannot be signed over the recovery leaf: its timelock fails in BIP322', { groupId });
  }
  const signers = body.signers;
  if (signers.length !== key.signers.length || !key.signers.every((k) => signers.some((s) => equalKeys(s, k)))) {
    throw wrongPath("the request's signers are not the signers of the path it names", {
      groupId,
      signers: signers.length,
      pathSigners: key.signers.length,
    });
  }
  return Object.freeze({ groupId, members: outputs.group.publicKeys.map((k) => bytesToHex(k)), key });
}
