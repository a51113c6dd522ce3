/**
 * What the UI and the daemon see of a session: plain JSON (hex strings), never a secret. The shape is
 * preload/contract.ts's SessionSnapshot plus a few fields the contract may adopt (blame list,
 * reporter, resumability, local approval pending).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Bip322Result, PsbtSessionView } from '../../preload/contract.ts';
import { bip322Signature } from '../wallet/bip322.ts';
import type { Announcement } from './announcement.ts';
import type { BatchItem, PayloadKind, TweakMode } from './codec.ts';
import { canAct, isExchange, isTerminal, type Phase, type SessionState } from './state.ts';

export interface SignerProgress {
  index: number;
  publicKey: string;
  isLocal: boolean;
  approved: boolean;
  nonceReceived: boolean;
  partialSignatureReceived: boolean;
}

export interface FailureView {
  code: string;
  reason: string;
  /** The first blamed signer, or null (contract field). */
  blamedSignerIndex: number | null;
  blame: number[];
  /** Signer index that ended the session (the local one when detected here). */
  reportedBy: number;
  /** This node checked the blame itself; false: the blame is reportedBy's claim (a remote ABORT). */
  verified: boolean;
}

export interface SessionSnapshot {
  sessionId: string;
  version: number;
  phase: Phase;
  attempt: number;
  createdAt: number;
  expiresAt: number;
  updatedAt: number;
  phaseSince: number;
  creator: string;
  isCreator: boolean;
  signers: SignerProgress[];
  /** What is asked: each message's bytes in hex with the creator's label for it (the signed digest
   *  is in `bip322`); for a PSBT, each input's BIP341 signature message, computed here, labelled
   *  with its outpoint and amount. */
  messages: { hex: string; display: string }[];
  payloadKind: PayloadKind;
  description: string;
  tweak: TweakMode;
  /** x-only key the final signatures verify under (for a PSBT: the group's key-path output key;
   *  an input of a BIP328-derived address verifies under its own output key). */
  signingKey: string;
  /** One per message, once COMPLETE. */
  signatures: string[];
  /** The review and, once COMPLETE, the signed transaction of a PSBT session; null otherwise. */
  psbt: PsbtSessionView | null;
  /** A message or batch session's address, digests and, once COMPLETE, BIP322 signatures; null for a PSBT. */
  bip322: Bip322Result | null;
  failure: FailureView | null;
  /** The local user has not decided yet. */
  awaitingLocalApproval: boolean;
  /** This node restarted during the current attempt and cannot continue it: resume to go on. */
  interrupted: boolean;
  /** resume() would start a new attempt. */
  resumable: boolean;
}

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
  maxAttempts: number;
}

export function snapshotOf({ announcement, state, localIndex, signingKey, items, psbt, bip322, maxAttempts }: SnapshotInput): SessionSnapshot {
  const { body } = announcement;
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
      ? { address: bip322.address, digests: bip322.digests.map(bytesToHex), signatures: state.signatures.map(bip322Signature) }
      : null,
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
