/**
 * The SessionTransport over libp2p. Frames go directly to the recipient's node (found through its
 * signer card: direct exchange, the peer store, or the DHT) over /cosigner/session/1.0.0, one
 * DELIVER frame per stream answered by ACK or NACK, with retries and backoff until the frame's
 * expiry. Announcements are also written into the recipient's DHT inbox (keyed by recipient and
 * creator, signed by the creator), and each local signer's inboxes are polled at start and
 * periodically, so a signer that comes online late still receives requests addressed to it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { equalBytes } from '@noble/curves/utils.js';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Connection, Stream } from '@libp2p/interface';
import { CosignerError } from '../errors.ts';
import type {
  Clock,
  FrameKind,
  InboundFrame,
  InboundHandler,
  InboundVerdict,
  OutboundMeta,
  Random,
  Scheduler,
  SessionTransport,
  TimerHandle,
} from '../session/ports.ts';
import { BoundedMap } from './bounded-map.ts';
import type { CardExchange } from './card-exchange.ts';
import { dhtGet, dhtPut } from './dht-client.ts';
import { checkInboxAnnouncements, decodeInboxRecord, encodeInboxRecord, inboxKey } from './dht-records.ts';
import type { AnnouncementInspector, DhtRecordRules } from './dht-records.ts';
import { Delivery } from './delivery.ts';
import type { RetryPolicy } from './delivery.ts';
import type { Directory } from './directory.ts';
import { handOver } from './inbound-verdict.ts';
import type { InboundPolicy } from './inbound-policy.ts';
import type { CosignerLibp2p } from './node.ts';
import { openStream } from './open-stream.ts';
import { OutboundStreams } from './outbound-streams.ts';
import type { Lease } from './outbound-streams.ts';
import { Outbox } from './outbox.ts';
import type { OutboxSlot } from './outbox.ts';
import { isValidSignerKey } from './signer-card.ts';
import type { SignerKey } from './signer-card.ts';
import { FrameChannel, MAX_PAYLOAD_BYTES, SESSION_PROTOCOL } from './wire.ts';
import type { NackReason } from './wire.ts';

/** A session stream may carry a few frames; more is a misbehaving peer. */
const MAX_FRAMES_PER_STREAM = 16;
const MAX_WATCHED_COSIGNERS = 1024;

export interface TransportTimeouts {
  /** Reading or writing one frame. */
  frameMs: number;
  /** How long a session stream is kept open after a frame for the next one (the sender's side; the
   *  receiver waits twice as long before it closes the stream itself). */
  streamIdleMs: number;
  /** One DHT get or put. */
  dhtMs: number;
  inboxPollIntervalMs: number;
  inboxRepublishIntervalMs: number;
}

export const DEFAULT_TRANSPORT_TIMEOUTS: TransportTimeouts = {
  frameMs: 10_000,
  streamIdleMs: 5_000,
  dhtMs: 15_000,
  inboxPollIntervalMs: 60_000,
  inboxRepublishIntervalMs: 10 * 60_000,
};

export interface TransportDeps {
  libp2p: CosignerLibp2p;
  rules: DhtRecordRules;
  directory: Directory;
  policy: InboundPolicy;
  cards: CardExchange;
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  /** The local signer keys: inboxes are polled for them, and they sign the inbox records they create. */
  signers: readonly SignerKey[];
  inspectAnnouncement: AnnouncementInspector;
  timeouts?: Partial<TransportTimeouts>;
  retry?: Partial<RetryPolicy>;
}

export interface TransportStats {
  framesDelivered: number;
  inboxAnnouncementsDelivered: number;
  inboxRecordsPublished: number;
  inboxPublishFailures: number;
  pendingDeliveries: number;
  /** Delivery attempts that failed and were retried (or ran out of time). */
  failedAttempts: number;
  watchedCosigners: number;
  /** Our deliveries the receiver refused for now (it retries later), by the reason it gave. */
  nacksReceived: Record<NackReason, number>;
}

export class CosignerTransport implements SessionTransport {
  readonly localPeerId: string;
  readonly #deps: TransportDeps;
  readonly #timeouts: TransportTimeouts;
  readonly #delivery: Delivery;
  readonly #streams: OutboundStreams;
  readonly #outbox = new Outbox();
  readonly #handlers = new Set<InboundHandler>();
  /** Hashes of announcements the coordinator stored or refused for good, so that neither a second
   *  direct delivery nor an inbox poll hands them over again. */
  readonly #seen = new BoundedMap<string, true>(4096);
  readonly #watched = new BoundedMap<string, Uint8Array>(MAX_WATCHED_COSIGNERS);
  readonly #timers: TimerHandle[] = [];
  #running = false;
  #polling: Promise<number> | undefined;
  readonly #stats = { framesDelivered: 0, inboxAnnouncementsDelivered: 0, inboxRecordsPublished: 0, inboxPublishFailures: 0 };
  readonly #nacksReceived: Record<NackReason, number> = { 'rate-limited': 0, 'not-ready': 0 };

  constructor(deps: TransportDeps) {
    this.#deps = deps;
    this.#timeouts = { ...DEFAULT_TRANSPORT_TIMEOUTS, ...deps.timeouts };
    this.localPeerId = deps.libp2p.peerId.toString();
    this.#streams = new OutboundStreams({
      scheduler: deps.scheduler,
      idleMs: this.#timeouts.streamIdleMs,
      maxFrames: MAX_FRAMES_PER_STREAM,
      closeTimeoutMs: this.#timeouts.frameMs,
    });
    this.#delivery = new Delivery({
      clock: deps.clock,
      scheduler: deps.scheduler,
      random: deps.random,
      attempt: (to, frame, kind, signal, attempt) => this.#attempt(to, frame, kind, signal, attempt),
      ...(deps.retry !== undefined ? { policy: deps.retry } : {}),
    });
  }

  async start(): Promise<void> {
    await this.#deps.libp2p.handle(SESSION_PROTOCOL, (stream, connection) => this.#onStream(stream, connection), {
      maxInboundStreams: 4,
      maxOutboundStreams: 16,
      // A co-signer behind a NAT is reached through a relay, whose connections libp2p calls limited.
      runOnLimitedConnection: true,
    });
    this.#running = true;
    const { scheduler } = this.#deps;
    this.#timers.push(scheduler.setInterval(() => void this.pollInbox(), this.#timeouts.inboxPollIntervalMs));
    this.#timers.push(scheduler.setInterval(() => void this.#republishInboxes(), this.#timeouts.inboxRepublishIntervalMs));
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const t of this.#timers.splice(0)) this.#deps.scheduler.clear(t);
    this.#streams.closeAll();
    this.#delivery.stop();
    // Stopping regardless: a libp2p already stopping has dropped its handlers itself.
    await this.#deps.libp2p.unhandle(SESSION_PROTOCOL).catch(() => undefined);
  }

  send(toSigner: Uint8Array, frame: Uint8Array, meta: OutboundMeta): Promise<void> {
    if (!this.#running) return Promise.reject(new CosignerError('NOT_RUNNING', 'the network is not running'));
    if (!isValidSignerKey(toSigner)) return Promise.reject(new CosignerError('INVALID_PUBLIC_KEY', 'recipient is not a valid signer key'));
    if (frame.length === 0 || frame.length > MAX_PAYLOAD_BYTES) {
      return Promise.reject(
        new CosignerError('OVERSIZED_MESSAGE', 'frame is empty or larger than the wire allows', {
          length: frame.length,
          max: MAX_PAYLOAD_BYTES,
        }),
      );
    }
    if (meta.expiresAt <= this.#deps.clock.now())
      return Promise.reject(new CosignerError('EXPIRED', 'frame expired before sending', { sessionId: meta.sessionId }));
    if (meta.kind === 'announcement') this.#storeInInbox(toSigner, frame, meta.expiresAt);
    return this.#delivery.send(toSigner, frame, meta);
  }

  subscribe(handler: InboundHandler): () => void {
    this.#handlers.add(handler);
    return () => {
      this.#handlers.delete(handler);
    };
  }

  peerOf(signer: Uint8Array): string | undefined {
    return this.#deps.directory.peerOf(signer);
  }

  /** The co-signer keys whose announcements to us we look for in the DHT (the creators of our inboxes). */
  watchCosigners(keys: readonly Uint8Array[]): void {
    for (const key of keys) if (isValidSignerKey(key)) this.#watched.set(bytesToHex(key), Uint8Array.from(key));
  }

  /** Retries pending deliveries to this signer now (its card or a connection just appeared). */
  kick(signer: Uint8Array): void {
    this.#delivery.kick(signer);
  }

  /** Fetches our DHT inboxes and hands new, valid, unexpired announcements to the subscribers. */
  pollInbox(): Promise<number> {
    this.#polling ??= this.#poll().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  stats(): TransportStats {
    return {
      ...this.#stats,
      pendingDeliveries: this.#delivery.pendingCount(),
      failedAttempts: this.#delivery.failedAttempts(),
      watchedCosigners: this.#watched.size,
      nacksReceived: { ...this.#nacksReceived },
    };
  }

  async #attempt(toSigner: Uint8Array, frame: Uint8Array, kind: FrameKind, signal: AbortSignal, attempt: number): Promise<void> {
    const { directory, libp2p } = this.#deps;
    // After a failed attempt the card may be outdated (new addresses, new node): look it up again.
    const card = await directory.resolve(toSigner, { signal, refresh: attempt > 1 });
    if (card === undefined) throw new Error('no signer card found for this key');
    if (card.peerId === this.localPeerId) {
      if ((await this.#dispatch({ frame, fromPeer: this.localPeerId }, kind)) === 'retry') throw new Error('not taken now by this node');
      return;
    }
    const peerId = peerIdFromString(card.peerId);
    // Addresses matter only for a new connection; merging them on every frame cost a peer-store write each.
    if (card.multiaddrs.length > 0 && libp2p.getConnections(peerId).length === 0) {
      // Without the addresses the dial below fails, and that attempt is retried and counted (failedAttempts).
      await libp2p.peerStore.merge(peerId, { multiaddrs: card.multiaddrs.map((a) => multiaddr(a)) }).catch(() => undefined);
    }
    const open = () => openStream(libp2p, peerId, SESSION_PROTOCOL, signal);
    let lease = await this.#streams.take(card.peerId, open);
    let outcome = await this.#exchange(lease, frame, kind);
    // A kept stream the remote has closed meanwhile is no fault of the frame: once more, on a new one.
    if (outcome === 'ended' && lease.reused && !signal.aborted) {
      lease = await this.#streams.take(card.peerId, open, true);
      outcome = await this.#exchange(lease, frame, kind);
    }
    if (outcome === 'ack') return;
    throw new Error(outcome === 'ended' ? 'stream ended before an ack' : outcome);
  }

  /** One frame and its acknowledgement on a lent stream, which is kept after an ack and dropped otherwise. */
  async #exchange(lease: Lease, frame: Uint8Array, kind: FrameKind): Promise<string> {
    let outcome: string;
    try {
      await lease.channel.write({ type: 'deliver', kind, payload: frame }, this.#timeouts.frameMs);
      const reply = await lease.channel.read(this.#timeouts.frameMs);
      outcome =
        reply.status === 'message'
          ? reply.message.type === 'ack'
            ? 'ack'
            : reply.message.type === 'nack'
              ? this.#nacked(reply.message.reason)
              : 'bad reply: unexpected-type'
          : reply.status === 'rejected'
            ? `bad reply: ${reply.reason}`
            : 'ended';
    } catch {
      outcome = 'ended';
    }
    if (outcome === 'ack') this.#streams.give(lease);
    else this.#streams.discard(lease, outcome);
    return outcome;
  }

  #nacked(reason: NackReason): string {
    this.#nacksReceived[reason] += 1;
    return `peer refused the frame: ${reason}`;
  }

  async #onStream(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    const { policy } = this.#deps;
    if (!policy.admitStream(peer, stream)) return;
    const channel = new FrameChannel(stream);
    try {
      for (let i = 0; i < MAX_FRAMES_PER_STREAM; i++) {
        // After the first frame the sender may keep the stream for its next one (outbound-streams.ts);
        // silence then is no fault, and the stream is closed once the sender would have given up on it.
        // A frame begun and not finished in that time is a stall, and a reject like any other.
        const result = await channel.read(i === 0 ? this.#timeouts.frameMs : 2 * this.#timeouts.streamIdleMs);
        if (result.status === 'end' || (i > 0 && result.status === 'rejected' && result.reason === 'timeout' && !channel.midFrame)) break;
        if (result.status === 'rejected') {
          policy.reject(peer, result.reason, stream);
          return;
        }
        if (!policy.admitFrame(peer)) {
          await channel.write({ type: 'nack', reason: 'rate-limited' }, this.#timeouts.frameMs);
          break;
        }
        const message = result.message;
        if (message.type !== 'deliver') {
          policy.reject(peer, 'unexpected-type', stream);
          return;
        }
        if (this.#handlers.size === 0) {
          await channel.write({ type: 'nack', reason: 'not-ready' }, this.#timeouts.frameMs);
          break;
        }
        await this.#ensureCardOf(peer);
        const verdict = await this.#dispatch({ frame: Uint8Array.from(message.payload), fromPeer: peer }, message.kind);
        if (verdict === 'retry') {
          // Not taken now (a limit reached, the sender's card not bound yet): the sender retries.
          await channel.write({ type: 'nack', reason: 'not-ready' }, this.#timeouts.frameMs);
          break;
        }
        await channel.write({ type: 'ack' }, this.#timeouts.frameMs);
      }
      await channel.close(this.#timeouts.frameMs);
    } catch {
      // The remote's stream failed (reset, closed, stalled): its frame was not acked, so its sender retries.
      channel.abort('session stream failed');
    }
  }

  /**
   * The coordinator authenticates a sender through peerOf(), so make sure we hold the sender's card
   * before handing its frame over (the card exchange on connect may still be in flight).
   */
  async #ensureCardOf(peer: string): Promise<void> {
    if (this.#deps.directory.byPeer(peer).length > 0) return;
    // Without the card the coordinator cannot bind the frame to a signer and answers "not now"
    // (a not-ready nack): the sender retries, by when the card exchange may have succeeded.
    await this.#deps.cards.exchange(peer, AbortSignal.timeout(this.#timeouts.frameMs)).catch(() => undefined);
  }

  /**
   * Hands a frame to the subscribers and returns their verdict. An announcement is immutable and may
   * reach us twice (directly and from the DHT inbox), so once the coordinator stored it or refused it
   * for good it is not handed over again. Only then: a copy refused for now (from a peer not bound to
   * its creator, e.g. a stranger front-running the creator; or over the pending-request limit) must
   * not shadow the genuine delivery. Session messages always pass, and are taken at once.
   */
  async #dispatch(inbound: InboundFrame, kind: FrameKind): Promise<InboundVerdict> {
    if (kind === 'session-message') {
      this.#stats.framesDelivered += 1;
      return handOver(this.#handlers, inbound);
    }
    const hash = bytesToHex(sha256(inbound.frame));
    if (this.#seen.has(hash)) return 'accepted';
    this.#stats.framesDelivered += 1;
    const verdict = await handOver(this.#handlers, inbound);
    if (verdict !== 'retry') this.#seen.set(hash, true);
    return verdict;
  }

  #storeInInbox(toSigner: Uint8Array, frame: Uint8Array, expiresAt: number): void {
    const facts = this.#deps.inspectAnnouncement(frame);
    if (!facts.ok || !facts.signers.some((s) => equalBytes(s, toSigner))) return;
    if (!this.#deps.signers.some((s) => equalBytes(s.publicKey, facts.creator))) return;
    let slot: OutboxSlot;
    try {
      slot = this.#outbox.add(toSigner, facts.creator, frame, Math.min(expiresAt, facts.expiresAt), this.#deps.clock.now());
    } catch {
      this.#stats.inboxPublishFailures += 1;
      return;
    }
    void this.#publishSlot(slot);
  }

  async #republishInboxes(): Promise<void> {
    for (const slot of this.#outbox.republish(this.#deps.clock.now())) await this.#publishSlot(slot);
  }

  async #publishSlot(slot: OutboxSlot): Promise<void> {
    const creator = this.#deps.signers.find((s) => equalBytes(s.publicKey, slot.creator));
    if (creator === undefined || !this.#running) return;
    const record = encodeInboxRecord(
      { recipient: slot.recipient, seq: slot.seq, announcements: slot.entries.map((e) => e.announcement) },
      creator,
      this.#deps.random,
    );
    const accepted = await dhtPut(
      this.#deps.libp2p,
      inboxKey(slot.recipient, slot.creator),
      record,
      AbortSignal.timeout(this.#timeouts.dhtMs),
    );
    if (accepted > 0) this.#stats.inboxRecordsPublished += 1;
    else this.#stats.inboxPublishFailures += 1;
  }

  async #poll(): Promise<number> {
    let delivered = 0;
    const { libp2p, rules, directory, inspectAnnouncement, clock } = this.#deps;
    for (const local of this.#deps.signers) {
      for (const creator of [...this.#watched.values()]) {
        if (!this.#running || this.#handlers.size === 0) return delivered;
        if (equalBytes(creator, local.publicKey)) continue;
        const value = await dhtGet(libp2p, rules, inboxKey(local.publicKey, creator), AbortSignal.timeout(this.#timeouts.dhtMs));
        if (value === undefined) continue;
        let live: Uint8Array[];
        try {
          live = checkInboxAnnouncements(decodeInboxRecord(value), inspectAnnouncement, clock.now());
        } catch {
          // Anyone can put a record under an inbox key: an invalid one is not ours to act on.
          continue;
        }
        const fresh = live.filter((a) => !this.#seen.has(bytesToHex(sha256(a))));
        if (fresh.length === 0) continue;
        // The record is signed by the creator's key, so it speaks for the creator's node: deliver it as
        // coming from the peer the creator's card names, which the coordinator can check with peerOf().
        const card = await directory.resolve(creator, { signal: AbortSignal.timeout(this.#timeouts.dhtMs) });
        if (card === undefined) continue;
        for (const a of fresh) {
          if ((await this.#dispatch({ frame: a, fromPeer: card.peerId }, 'announcement')) !== 'accepted') continue;
          this.#stats.inboxAnnouncementsDelivered += 1;
          delivered += 1;
        }
      }
    }
    return delivered;
  }
}
