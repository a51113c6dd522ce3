/**
 * How each peer is reached now, and since when: over the LAN (a direct connection to a private or
 * loopback address), directly (a public address), through a relay, or not at all. Kept from
 * libp2p's connection events so that the UI can say it without asking the network.
 */
import { isPrivate } from '@libp2p/utils';
import type { Connection, Libp2pEvents } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { Clock } from '../session/ports.ts';
import { BoundedMap } from './bounded-map.ts';
import type { CosignerLibp2p } from './node.ts';

export type PeerPath = 'lan' | 'direct' | 'relayed' | 'not-connected';

export interface PathState {
  path: PeerPath;
  /** When this path began (null: never connected since the node started). */
  since: number | null;
  /** For a relayed path, the relay's peer id. */
  relay: string | null;
}

export function isRelayed(address: Multiaddr | string): boolean {
  return address.toString().includes('/p2p-circuit');
}

function pathOfAddress(address: Multiaddr): PeerPath {
  if (isRelayed(address)) return 'relayed';
  try {
    return isPrivate(address) ? 'lan' : 'direct';
  } catch {
    return 'direct';
  }
}

const PREFERENCE: readonly PeerPath[] = ['lan', 'direct', 'relayed'];

/** The best path among a peer's open connections, and the relay of a relayed one. */
export function pathOf(connections: readonly Pick<Connection, 'remoteAddr' | 'status'>[]): { path: PeerPath; relay: string | null } {
  const open = connections.filter((c) => c.status === 'open');
  const paths = new Set(open.map((c) => pathOfAddress(c.remoteAddr)));
  const path = PREFERENCE.find((p) => paths.has(p)) ?? 'not-connected';
  const relayed = path === 'relayed' ? open.find((c) => isRelayed(c.remoteAddr)) : undefined;
  return { path, relay: relayed === undefined ? null : relayOf(relayed.remoteAddr) };
}

/** The relay peer id in `/.../p2p/<relay>/p2p-circuit/...`. */
function relayOf(address: Multiaddr): string | null {
  const before = address.toString().split('/p2p-circuit')[0] ?? '';
  return /\/p2p\/([^/]+)$/.exec(before)?.[1] ?? null;
}

export class PeerPaths {
  readonly #libp2p: CosignerLibp2p;
  readonly #clock: Clock;
  readonly #states: BoundedMap<string, { path: PeerPath; since: number; relay: string | null }>;
  readonly #onChange = (evt: CustomEvent<Connection>): void => this.#update(evt.detail.remotePeer.toString());

  constructor(libp2p: CosignerLibp2p, clock: Clock, maxPeers = 1024) {
    this.#libp2p = libp2p;
    this.#clock = clock;
    this.#states = new BoundedMap(maxPeers);
  }

  start(): void {
    for (const event of ['connection:open', 'connection:close'] as const satisfies readonly (keyof Libp2pEvents)[]) {
      this.#libp2p.addEventListener(event, this.#onChange);
    }
  }

  stop(): void {
    this.#libp2p.removeEventListener('connection:open', this.#onChange);
    this.#libp2p.removeEventListener('connection:close', this.#onChange);
  }

  of(peerId: string | undefined): PathState {
    const state = peerId === undefined ? undefined : this.#states.peek(peerId);
    return state === undefined ? { path: 'not-connected', since: null, relay: null } : { ...state };
  }

  #update(peerId: string): void {
    const { path, relay } = pathOf(this.#libp2p.getConnections().filter((c) => c.remotePeer.toString() === peerId));
    const current = this.#states.peek(peerId);
    if (current?.path === path && current.relay === relay) return;
    this.#states.set(peerId, { path, relay, since: this.#clock.now() });
  }
}
