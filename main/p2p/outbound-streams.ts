/**
 * Outbound session streams kept open between frames. Opening a libp2p stream costs a peer-store
 * write and a protocol negotiation, about 1.5 ms on loopback, more than the frame itself; a session
 * sends each co-signer a few frames within a second or two. So after a frame is acknowledged its
 * stream is kept, one per peer at most, for `idleMs` and at most `maxFrames` frames (the receiver's
 * limit per stream), then closed. A stream is lent to one frame at a time: a second frame to the
 * same peer meanwhile opens its own.
 */
import type { Scheduler, TimerHandle } from '../session/ports.ts';
import { BoundedMap } from './bounded-map.ts';
import { FrameChannel } from './wire.ts';
import type { Stream } from '@libp2p/interface';

export interface Lease {
  readonly peer: string;
  readonly channel: FrameChannel;
  /** True when the stream carried an earlier frame (the remote may have closed it since). */
  readonly reused: boolean;
  /** Frames acknowledged on this stream before this one. */
  readonly frames: number;
}

interface Idle {
  readonly lease: Lease;
  readonly timer: TimerHandle;
}

export interface OutboundStreamsDeps {
  scheduler: Scheduler;
  idleMs: number;
  maxFrames: number;
  closeTimeoutMs: number;
  maxPeers?: number;
}

/** Still open both ways, as far as this side knows: the remote may still have closed it meanwhile. */
function usable(stream: Stream): boolean {
  return (
    stream.status === 'open' &&
    stream.writeStatus === 'writable' &&
    stream.remoteWriteStatus === 'writable' &&
    stream.remoteReadStatus !== 'closing' &&
    stream.remoteReadStatus !== 'closed'
  );
}

export class OutboundStreams {
  readonly #deps: OutboundStreamsDeps;
  readonly #idle: BoundedMap<string, Idle>;
  readonly #maxPeers: number;
  #opened = 0;
  /** After closeAll (the transport stopped), a stream handed back is closed, never kept. */
  #closed = false;

  constructor(deps: OutboundStreamsDeps) {
    this.#deps = deps;
    this.#maxPeers = deps.maxPeers ?? 256;
    // The explicit eviction in give() closes the stream; the map's own limit is only a backstop.
    this.#idle = new BoundedMap(this.#maxPeers + 1);
  }

  /** Streams opened so far (a health figure, and how tests see reuse). */
  get opened(): number {
    return this.#opened;
  }

  /** The peer's idle stream, or a new one from `open` (`fresh` skips the idle one). */
  async take(peer: string, open: () => Promise<Stream>, fresh = false): Promise<Lease> {
    const idle = this.#idle.peek(peer);
    if (idle !== undefined) {
      this.#idle.delete(peer);
      this.#deps.scheduler.clear(idle.timer);
      if (!fresh && usable(idle.lease.channel.stream)) return { ...idle.lease, reused: true };
      void idle.lease.channel.close(this.#deps.closeTimeoutMs);
    }
    const stream = await open();
    this.#opened += 1;
    return { peer, channel: new FrameChannel(stream), reused: false, frames: 0 };
  }

  /** The frame was acknowledged: the stream is kept for the next one, or closed at its limit. */
  give(lease: Lease): void {
    const frames = lease.frames + 1;
    if (this.#closed || frames >= this.#deps.maxFrames || this.#idle.peek(lease.peer) !== undefined) {
      void lease.channel.close(this.#deps.closeTimeoutMs);
      return;
    }
    const kept: Lease = { ...lease, frames };
    const timer = this.#deps.scheduler.setTimeout(() => {
      if (this.#idle.peek(lease.peer)?.lease.channel !== kept.channel) return;
      this.#idle.delete(lease.peer);
      void kept.channel.close(this.#deps.closeTimeoutMs);
    }, this.#deps.idleMs);
    if (this.#idle.size >= this.#maxPeers) {
      const [oldestPeer, oldest] = this.#idle.entries().next().value as [string, Idle];
      this.#idle.delete(oldestPeer);
      this.#drop(oldest);
    }
    this.#idle.set(lease.peer, { lease: kept, timer });
  }

  /** The exchange failed: the stream is not used again. */
  discard(lease: Lease, reason: string): void {
    lease.channel.abort(reason);
  }

  closeAll(): void {
    this.#closed = true;
    for (const idle of [...this.#idle.values()]) this.#drop(idle);
    this.#idle.clear();
  }

  #drop(idle: Idle): void {
    this.#deps.scheduler.clear(idle.timer);
    void idle.lease.channel.close(this.#deps.closeTimeoutMs);
  }
}
