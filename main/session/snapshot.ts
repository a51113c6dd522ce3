/**
 * What the UI and the daemon see of a session: plain JSON (hex strings), never a secret. The shape is
 * preload/contract.ts's SessionSnapshot, its one definition (re-exported here for the session code).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { PsbtSessionView, SessionPath, SessionSnapshot } from '../../preload/contract.ts';
import { bip322Signature } from '../wallet/bip322.ts';
import type { Announcement } from './announcement.ts';
import type { ResolvedPath } from './group-path.ts';
import type { BatchItem } from './codec.ts';
import { canAct, isExchange, isTerminal, type SessionState } from './state.ts';

export type { SessionSnapshot };

export interface SnapshotInput {
  announcement: Announcement;
  state: SessionState;
  localIndex: number;
  signingKey: Uint8Array;
  /** The messages asked for, with their labels. */
  items: readonly BatchItem[];
  psbt: PsbtSessionView | null;
  /** A message or batch session: the group's address and, per message, the BIP322 digest it signs. */
  bip322: { address: string; digests: readonly Uint8Array[] } | null;
  /** The group path the request names, as this node recomputed it. */
  path: ResolvedPath | undefined;
  maxAttempts: number;
}

function pathView(path: ResolvedPath, signers: readonly string[]): SessionPath {
  const { key } = path;
  return {
    groupId: path.groupId,
    kind: key.path.kind,
    leaf: key.path.kind === 'leaf' ? key.path.leaf : null,
    leafKind: key.leaf?.kind ?? null,
    verifyKey: bytesToHex(key.verifyKey),
    notNeeded: path.members.filter((member) => !signers.includes(member)),
  };
}

export function snapshotOf({
  announcement,
  state,
  localIndex,
  signingKey,
  items,
  psbt,
  bip322,
  path,
  maxAttempts,
}: SnapshotInput): SessionSnapshot {
  const { body } = announcement;
  const leaf = path?.key.leaf;
  const done = state.phase === 'COMPLETE';
  return {
    sessionId: announcement.idHex,
    version: state.version,
    phase: state.phase,
    attempt: state.attempt,
    createdAt: body.createdAt,
    expiresAt: body.expiresAt,
    updatedAt: state.updatedAt,
    phaseSince: state.phaseSince,
    creator: bytesToHex(body.signers[body.creatorIndex] as Uint8Array),
    isCreator: body.creatorIndex === localIndex,
    signers: body.signers.map((key, index) => ({
      index,
      publicKey: bytesToHex(key),
      isLocal: index === localIndex,
      approved: state.approved[index] === true,
      nonceReceived: done || state.nonces[index] !== undefined,
      partialSignatureReceived: done || state.partials[index] !== undefined,
    })),
    messages: items.map((item) => ({ hex: bytesToHex(item.message), display: item.label })),
    payloadKind: body.payload.kind,
    description: body.display,
    tweak: body.tweak,
    signingKey: bytesToHex(signingKey),
    signatures: state.signatures.map(bytesToHex),
    // A transaction exists only for a COMPLETE session (a store failure at the end aborts it).
    psbt: psbt && !done ? { ...psbt, transaction: null } : psbt,
    bip322: bip322
      ? {
          address: bip322.address,
          digests: bip322.digests.map(bytesToHex),
          signatures: state.signatures.map((s) => bip322Signature(s, leaf && { script: leaf.script, controlBlock: leaf.controlBlock })),
        }
      : null,
    spendPath: path ? pathView(path, body.signers.map(bytesToHex)) : null,
    failure: state.failure
      ? {
          code: state.failure.code,
          reason: state.failure.reason,
          blamedSignerIndex: state.failure.blame[0] ?? null,
          blame: [...state.failure.blame],
          reportedBy: state.failure.reportedBy,
          verified: state.failure.verified,
        }
      : null,
    awaitingLocalApproval: !isTerminal(state.phase) && state.approved[localIndex] !== true,
    interrupted: !isTerminal(state.phase) && !canAct(state),
    resumable: isExchange(state.phase) && state.attempt < maxAttempts,
  };
}
