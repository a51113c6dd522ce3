import { describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import type { MultiaddrConnection } from '@libp2p/interface';
import { addressKey, PendingInbound } from '../../../main/p2p/inbound-limits.ts';

const at = (addr: string) => ({ remoteAddr: multiaddr(addr) });

/** Just what the gater reads of a connection: its remote address and its close event. */
function connection(addr: string): MultiaddrConnection & { close(): void } {
  const events = new EventTarget();
  return Object.assign(events, {
    remoteAddr: multiaddr(addr),
    close: () => events.dispatchEvent(new Event('close')),
  }) as unknown as MultiaddrConnection & { close(): void };
}

describe('inbound handshake limits', () => {
  it('counts IPv4 by address and IPv6 by /64, an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(addressKey(at('/ip4/203.0.113.7/tcp/4001'))).toBe('203.0.113.7');
    expect(addressKey(at('/ip6/2001:db8:0:12:aaaa::1/tcp/4001'))).toBe('2001:db8:0:12::/64');
    expect(addressKey(at('/ip6/2001:0db8:0000:0012:ffff:1:2:3/tcp/1'))).toBe('2001:db8:0:12::/64');
    expect(addressKey(at('/ip6/2001:db8::1/tcp/1'))).toBe('2001:db8:0:0::/64');
    expect(addressKey(at('/ip6/::1/tcp/1'))).toBe('0:0:0:0::/64');
    expect(addressKey(at('/ip6/::ffff:198.51.100.4/tcp/1'))).toBe('198.51.100.4');
    expect(addressKey({ remoteAddr: { getComponents: () => [{ code: 41, name: 'ip6', value: '::ffff:198.51.100.4' }] } } as never)).toBe(
      '198.51.100.4',
    );
  });

  it('refuses a handshake beyond the per-address limit, and frees the slot when one ends', async () => {
    const pending = new PendingInbound(2);
    const gater = pending.gater();
    const a1 = connection('/ip4/198.51.100.1/tcp/1');
    const a2 = connection('/ip4/198.51.100.1/tcp/2');
    const a3 = connection('/ip4/198.51.100.1/tcp/3');
    expect(await gater.denyInboundConnection!(a1)).toBe(false);
    expect(await gater.denyInboundConnection!(a2)).toBe(false);
    expect(await gater.denyInboundConnection!(a3)).toBe(true);
    expect(await gater.denyInboundConnection!(connection('/ip4/198.51.100.2/tcp/1'))).toBe(false); // another address
    expect(pending.refused).toBe(1);
    await a1.close(); // a silent socket timed out
    expect(await gater.denyInboundConnection!(a3)).toBe(false);
    expect(await gater.denyInboundUpgradedConnection!(undefined as never, a2)).toBe(false); // a handshake done
    expect(pending.pending).toBe(2);
    await a2.close(); // closing an upgraded connection later changes nothing
    expect(pending.pending).toBe(2);
  });

  it("keeps the node's other gater rules: what they refuse is not counted, and they still see upgraded connections", async () => {
    const seen: string[] = [];
    const pending = new PendingInbound(1);
    const gater = pending.gater({
      denyInboundConnection: (maConn) => maConn.remoteAddr.toString().includes('/tcp/666'),
      denyInboundUpgradedConnection: () => {
        seen.push('upgraded');
        return true;
      },
      denyDialPeer: () => true,
    });
    expect(await gater.denyInboundConnection!(connection('/ip4/198.51.100.1/tcp/666'))).toBe(true);
    expect(pending.pending).toBe(0);
    const ok = connection('/ip4/198.51.100.1/tcp/1');
    expect(await gater.denyInboundConnection!(ok)).toBe(false);
    expect(await gater.denyInboundUpgradedConnection!(undefined as never, ok)).toBe(true);
    expect(seen).toEqual(['upgraded']);
    expect(pending.pending).toBe(0);
    expect(await gater.denyDialPeer!(undefined as never)).toBe(true);
  });
});
