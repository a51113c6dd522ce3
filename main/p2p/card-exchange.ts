/**
 * /cosigner/card/1.0.0: when a connection opens, the dialing side opens a card stream; both sides
 * send their signer cards (one CARD frame each, at most MAX_CARDS_PER_EXCHANGE), half-close, and
 * read the other side's cards until the end of the stream. A card only counts when it names the
 * Noise-authenticated peer it arrived from and its signature verifies.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import type { Connection, Stream } from '@libp2p/interface';
import type { Directory } from './directory.ts';
import type { InboundPolicy } from './inbound-policy.ts';
import type { CosignerLibp2p } from './node.ts';
import { openStream } from './open-stream.ts';
import type { SignerCard } from './signer-card.ts';
import { CARD_PROTOCOL, FrameChannel } from './wire.ts';
import { MAX_CARD_BYTES } from './signer-card.ts';

export const MAX_CARDS_PER_EXCHANGE = 8;

export interface CardExchangeDeps {
  libp2p: CosignerLibp2p;
  directory: Directory;
  policy: InboundPolicy;
  ownCards(): readonly SignerCard[];
  frameTimeoutMs: number;
}

export class CardExchange {
  readonly #deps: CardExchangeDeps;
  readonly #onOpen = (evt: CustomEvent<Connection>): void => {
    const connection = evt.detail;
    if (connection.direction !== 'outbound') return;
    this.exchange(connection.remotePeer.toString(), AbortSignal.timeout(this.#deps.frameTimeoutMs * 2)).catch(() => {
      // not a Cosigner peer, or it went away: nothing to learn
    });
  };

  constructor(deps: CardExchangeDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    await this.#deps.libp2p.handle(CARD_PROTOCOL, (stream, connection) => this.#respond(stream, connection), {
      maxInboundStreams: 2,
      maxOutboundStreams: 2,
      // Cards are swapped over relayed (limited) connections too: that is how NATed co-signers meet.
      runOnLimitedConnection: true,
    });
    this.#deps.libp2p.addEventListener('connection:open', this.#onOpen);
  }

  async stop(): Promise<void> {
    this.#deps.libp2p.removeEventListener('connection:open', this.#onOpen);
    await this.#deps.libp2p.unhandle(CARD_PROTOCOL);
  }

  /** Swaps cards with a peer; returns the cards it presented that we accepted. */
  async exchange(peer: string, signal: AbortSignal): Promise<SignerCard[]> {
    const stream = await openStream(this.#deps.libp2p, peerIdFromString(peer), CARD_PROTOCOL, signal);
    return this.#swap(stream, peer);
  }

  /** Re-sends our cards to every connected peer (after a card changed). */
  async pushToConnected(): Promise<void> {
    const peers = new Set(this.#deps.libp2p.getConnections().map((c) => c.remotePeer.toString()));
    await Promise.allSettled([...peers].map((p) => this.exchange(p, AbortSignal.timeout(this.#deps.frameTimeoutMs * 2))));
  }

  async #respond(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    if (!this.#deps.policy.admitStream(peer, stream)) return;
    await this.#swap(stream, peer).catch(() => {
      // the remote vanished mid-exchange
    });
  }

  async #swap(stream: Stream, peer: string): Promise<SignerCard[]> {
    const channel = new FrameChannel(stream, MAX_CARD_BYTES + 2);
    const { frameTimeoutMs } = this.#deps;
    const send = (async () => {
      for (const card of this.#deps.ownCards().slice(0, MAX_CARDS_PER_EXCHANGE)) {
        await channel.write({ type: 'card', card: card.bytes }, frameTimeoutMs);
      }
      await channel.close(frameTimeoutMs);
    })();
    const accepted: SignerCard[] = [];
    for (let received = 0; ; received++) {
      const result = await channel.read(frameTimeoutMs);
      if (result.status === 'end') break;
      if (result.status === 'rejected') {
        this.#deps.policy.reject(peer, result.reason, stream);
        break;
      }
      if (!this.#deps.policy.admitFrame(peer)) {
        channel.abort('rate limited');
        break;
      }
      if (result.message.type !== 'card' || received >= MAX_CARDS_PER_EXCHANGE) {
        this.#deps.policy.reject(peer, result.message.type !== 'card' ? 'unexpected-type' : 'malformed', stream);
        break;
      }
      const learned = this.#deps.directory.learn(result.message.card, 'direct', peer);
      if (learned.status === 'rejected') {
        this.#deps.policy.reject(peer, 'bad-card', stream);
        break;
      }
      accepted.push(learned.card);
    }
    await send.catch(() => {
      // the remote closed first or reset after a reject
    });
    return accepted;
  }
}
