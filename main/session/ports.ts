/**
 * The ports the session coordinator depends on. The coordinator knows nothing of libp2p, the file
 * system or Electron: the p2p layer, the storage layer and the keystore implement these, and tests
 * use in-process implementations of the same interfaces (never mocks of the coordinator).
 */
import type { Group } from '../../preload/contract.ts';

/** Wall-clock time in milliseconds since the Unix epoch. */
export interface Clock {
  now(): number;
}

export type TimerHandle = { readonly id: number };

/** Timers go through this port so that tests drive time deterministically, without sleeps. */
export interface Scheduler {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clear(handle: TimerHandle): void;
}

/** Cryptographically secure random bytes (tests inject a seeded source). */
export interface Random {
  bytes(length: number): Uint8Array;
}

/** What kind of frame a send carries, so that the transport can treat announcements specially
 * (they are also stored in the DHT for signers that come online later). */
export type FrameKind = 'announcement' | 'session-message';

export interface OutboundMeta {
  kind: FrameKind;
  /** hex session id */
  sessionId: string;
  /** ms since epoch; the transport stops retrying (and drops any stored copy) after this */
  expiresAt: number;
}

/** An inbound frame with the identity the transport authenticated (libp2p: the Noise-verified peer id). */
export interface InboundFrame {
  frame: Uint8Array;
  fromPeer: string;
}

/**
 * What became of an inbound frame, so that the transport answers its sender truthfully:
 * 'accepted' (taken: stored, queued or held), 'refused' (never acceptable, whoever sends it again:
 * dropped for good), 'retry' (not now: a limit is reached, the sender's peer is not bound to its key
 * yet, the disk failed; the sender should send it again later).
 */
export type InboundVerdict = 'accepted' | 'refused' | 'retry';

/** A subscriber to inbound frames. An announcement's verdict comes once the coordinator stored or
 *  refused it; a session message's at once (it is queued). */
export type InboundHandler = (inbound: InboundFrame) => InboundVerdict | Promise<InboundVerdict>;

export interface SessionTransport {
  /** The local node's authenticated peer id. */
  readonly localPeerId: string;
  /**
   * Deliver `frame` to the signer with this 33-byte public key. Resolves once the peer accepted it;
   * rejects with a CosignerError('PEER_UNREACHABLE') after the transport's retries are exhausted.
   */
  send(toSigner: Uint8Array, frame: Uint8Array, meta: OutboundMeta): Promise<void>;
  /** Subscribe to inbound frames; returns the unsubscribe function. */
  subscribe(handler: InboundHandler): () => void;
  /**
   * The peer id bound to this signer key by a verified signer card (signed by that key), if known.
   * The coordinator rejects a session message whose `fromPeer` differs from it.
   */
  peerOf(signer: Uint8Array): string | undefined;
}

/**
 * Whether `signers` (33-byte keys, in any order) are exactly the keys of a co-signer group this node's
 * user saved. Requests for any other signer set are refused before anything is stored or read.
 */
export type KnownGroup = (signers: readonly Uint8Array[]) => boolean;

/** A group as this node's user saved it: its 33-byte keys (hex) and its policy (n-of-n if none). */
export type SavedGroup = Pick<Group, 'publicKeys' | 'policy'>;

/**
 * The group this node's user saved under `id` (64 hex: policyGroupId, which covers keys and policy),
 * if any. A request naming a group's spending path is taken only for a group found here, and its
 * signers are recomputed from what is found (docs/PROTOCOL.md §Group path).
 */
export type GroupById = (id: string) => SavedGroup | undefined;

/**
 * The local signer's key, provided by the keystore. `secretKey()` must return a fresh copy: the
 * coordinator asks for it only to sign and fills that copy with zeros right after.
 */
export interface SignerKey {
  /** 33-byte compressed public key. */
  readonly publicKey: Uint8Array;
  secretKey(): Uint8Array;
}

/** Durable storage of session records (never secrets); see main/storage/record-store.ts. */
export type { JsonValue, RecordStore } from '../storage/record-store.ts';
