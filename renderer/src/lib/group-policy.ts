/**
 * A group's policy in words, and the editor's choices turned into one (docs/GROUPS.md).
 * Bounds mirror main/wallet/threshold-policy.ts; the back end checks them again.
 */
import type { GroupPolicy } from '../../../preload/contract.ts';

/** k-of-n groups have 3 to 7 signers (C(7,3) = 35 leaves at most). */
export const MAX_THRESHOLD_SIGNERS = 7;
/** A block comes about every 10 minutes: 144 a day. */
export const BLOCKS_PER_DAY = 144;
/** BIP68 block locks are 16 bits: 65 535 blocks, about 455 days. */
export const MAX_OLDER_BLOCKS = 0xffff;

/** "about 30 days" for a lock of 4 320 blocks (blocks × 10 minutes). */
export function blocksInDays(blocks: number): string {
  const days = (blocks * 10) / (60 * 24);
  if (days < 1) {
    const hours = Math.max(1, Math.round((blocks * 10) / 60));
    return `about ${hours} hour${hours === 1 ? '' : 's'}`;
  }
  const rounded = days < 10 ? Math.round(days * 10) / 10 : Math.round(days);
  return `about ${rounded} day${rounded === 1 ? '' : 's'}`;
}

/** Days typed by the user to blocks, null when outside 1 block to the BIP68 bound. */
export function daysToBlocks(days: number): number | null {
  if (!Number.isFinite(days) || days <= 0) return null;
  const blocks = Math.round(days * BLOCKS_PER_DAY);
  return blocks >= 1 && blocks <= MAX_OLDER_BLOCKS ? blocks : null;
}

/** Whether the group has a script tree: leaves besides its key path (docs/GROUPS.md). */
export function hasScriptTree(policy: GroupPolicy | undefined): boolean {
  return policy !== undefined && (policy.kind === 'k-of-n' || policy.recovery !== undefined);
}

/** "2 of 3 signers" / "all 3 signers", and the recovery path if any. */
export function policyWords(policy: GroupPolicy | undefined, n: number): string {
  const spend = policy?.kind === 'k-of-n' ? `any ${policy.k} of ${n} signers` : `all ${n} signers`;
  const recovery = policy?.recovery;
  if (!recovery) return spend;
  const who = recovery.keys.length === 1 ? 'a recovery key' : `${recovery.keys.length} recovery keys together`;
  return `${spend}; or ${who} once coins are ${recovery.olderBlocks} blocks (${blocksInDays(recovery.olderBlocks)}) old`;
}

/** What losing keys means for a group, in one sentence. */
export function lossWords(policy: GroupPolicy | undefined, n: number): string {
  const rescue = policy?.recovery ? ' unless the recovery key spends them after the wait' : '';
  if (policy?.kind === 'k-of-n') {
    const spare = n - policy.k;
    return `The coins stay spendable if up to ${spare} signer${spare === 1 ? '' : 's'} lose${spare === 1 ? 's' : ''} their key; if ${spare + 1} do, they are lost${rescue}.`;
  }
  return `If any one of the ${n} signers loses their key and its backup words, the coins in this group can never be spent${rescue}.`;
}

export interface PolicyChoice {
  kind: 'n-of-n' | 'k-of-n';
  k: number;
  recovery: boolean;
  recoveryKeys: readonly string[];
  recoveryDays: number;
}

/** The policy of the editor's choices, or the reason it is not one yet. */
export function policyOf(choice: PolicyChoice, n: number): { policy: GroupPolicy } | { problem: string } {
  let recovery: GroupPolicy['recovery'];
  if (choice.recovery) {
    if (choice.recoveryKeys.length === 0) return { problem: 'Give the recovery key.' };
    const olderBlocks = daysToBlocks(choice.recoveryDays);
    if (olderBlocks === null) return { problem: `The wait is 1 to ${Math.floor(MAX_OLDER_BLOCKS / BLOCKS_PER_DAY)} days.` };
    recovery = { keys: [...choice.recoveryKeys], olderBlocks };
  }
  if (choice.kind === 'n-of-n') return { policy: recovery ? { kind: 'n-of-n', recovery } : { kind: 'n-of-n' } };
  if (n < 3 || n > MAX_THRESHOLD_SIGNERS) return { problem: `Any k of n needs 3 to ${MAX_THRESHOLD_SIGNERS} signers.` };
  if (!Number.isInteger(choice.k) || choice.k < 2 || choice.k >= n) return { problem: `k is 2 to ${n - 1}.` };
  return { policy: recovery ? { kind: 'k-of-n', k: choice.k, recovery } : { kind: 'k-of-n', k: choice.k } };
}
