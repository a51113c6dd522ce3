/**
 * Limits on inbound connections that have not finished their handshake (Noise, then Yamux). libp2p
 * admits only so many of them at once, for all addresses together, and holds each one until its
 * upgrade timeout: a script that opens a few TCP sockets and says nothing kept every new co-signer
 * out (test/integration/p2p/silent-sockets.test.ts). So, on top of libp2p's own limits: few pending
 * handshakes per address, more in total, and a short handshake timeout.
 */
import type { ConnectionGater, MultiaddrConnection } from '@libp2p/interface';
import type { ConnectionManagerInit } from 'libp2p';

export interface InboundLimits {
  /** Handshakes in progress from one address (an IPv6 /64 counts as one address). */
  pendingPerAddress: number;
  /** Handshakes in progress in total (libp2p's `maxIncomingPendingConnections`). */
  pendingTotal: number;
  /** Time an inbound connection has to finish Noise and Yamux (libp2p's `inboundUpgradeTimeout`). */
  handshakeMs: number;
}

export const DEFAULT_INBOUND_LIMITS: InboundLimits = {
  // Several co-signers behind one NAT connecting at the same moment still fit: a handshake takes
  // a few round trips, milliseconds on a LAN.
  pendingPerAddress: 4,
  pendingTotal: 32,
  // A Noise XX handshake is 1.5 round trips, and Yamux one more; 5 s is plenty even on a slow link.
  handshakeMs: 5_000,
};

const IP4 = 4;
const IP6 = 41;

/** The key inbound connections are counted under: the IPv4 address, or the /64 of an IPv6 one
 *  (one host usually holds a whole /64, so counting single IPv6 addresses would limit nothing). */
export function addressKey(maConn: Pick<MultiaddrConnection, 'remoteAddr'>): string | undefined {
  const component = maConn.remoteAddr.getComponents().find((c) => c.code === IP4 || c.code === IP6);
  if (component?.value === undefined) return undefined;
  if (component.code === IP4) return component.value;
  const groups = ipv6Groups(component.value);
  if (groups === undefined) return component.value;
  // An IPv4 peer on a dual-stack listener shows as ::ffff:a.b.c.d: it is one IPv4 address.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address in text form (`::` and a trailing dotted quad allowed). */
function ipv6Groups(address: string): number[] | undefined {
  const quad = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const text =
    quad === null
      ? address
      : `${quad[1]}${((Number(quad[2]) << 8) | Number(quad[3])).toString(16)}:${((Number(quad[4]) << 8) | Number(quad[5])).toString(16)}`;
  const [head = '', tail, extra] = text.split('::');
  if (extra !== undefined) return undefined;
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const all = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  const groups = all.map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN));
  return groups.length === 8 && groups.every((g) => !Number.isNaN(g)) ? groups : undefined;
}

/**
 * Counts inbound connections from their first byte until their upgrade ends (done, or closed), and
 * refuses one from an address that already has `pendingPerAddress` in progress.
 */
export class PendingInbound {
  readonly #limit: number;
  readonly #byAddress = new Map<string, Set<MultiaddrConnection>>();
  #refused = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** `base` (the node's other gater rules) with these limits added: a connection `base` refuses is
   *  never counted, and an upgraded one is released whatever `base` then decides. */
  gater(base: ConnectionGater = {}): ConnectionGater {
    return {
      ...base,
      denyInboundConnection: async (maConn) => (await base.denyInboundConnection?.(maConn)) === true || !this.#admit(maConn),
      denyInboundUpgradedConnection: async (peer, maConn) => {
        this.#release(maConn);
        return (await base.denyInboundUpgradedConnection?.(peer, maConn)) === true;
      },
    };
  }

  /** Handshakes in progress (all addresses). */
  get pending(): number {
    let n = 0;
    for (const set of this.#byAddress.values()) n += set.size;
    return n;
  }

  /** Connections refused because their address had too many handshakes in progress. */
  get refused(): number {
    return this.#refused;
  }

  #admit(maConn: MultiaddrConnection): boolean {
    const key = addressKey(maConn);
    if (key === undefined) return true;
    const set = this.#byAddress.get(key) ?? new Set();
    if (set.size >= this.#limit) {
      this.#refused += 1;
      return false;
    }
    set.add(maConn);
    this.#byAddress.set(key, set);
    // A failed or timed-out upgrade ends with the connection closed.
    maConn.addEventListener('close', () => this.#release(maConn), { once: true });
    return true;
  }

  #release(maConn: MultiaddrConnection): void {
    const key = addressKey(maConn);
    if (key === undefined) return;
    const set = this.#byAddress.get(key);
    if (set === undefined || !set.delete(maConn)) return;
    if (set.size === 0) this.#byAddress.delete(key);
  }
}

/** The libp2p connection manager options that go with these limits. */
export function connectionManagerLimits(
  limits: InboundLimits,
): Pick<ConnectionManagerInit, 'maxIncomingPendingConnections' | 'inboundUpgradeTimeout'> {
  return { maxIncomingPendingConnections: limits.pendingTotal, inboundUpgradeTimeout: limits.handshakeMs };
}
