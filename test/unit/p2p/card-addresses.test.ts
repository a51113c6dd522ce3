import { multiaddr } from '@multiformats/multiaddr';
import { describe, expect, it } from 'vitest';
import { cardAddresses } from '../../../main/p2p/card-addresses.ts';

const RELAY = '12D3KooWAexSyPCgp3rnZmeiD5w1YmCxN1MGs3baNTT49wQ7Kfhn';
const SELF = '12D3KooWNM2cCgkT7vPb7q6XoRs3QGA2q6HoVrcvjznpzmvVUzRN';

// A pure function of address strings: nothing here is dialled (public-looking addresses are needed
// because the documentation ranges count as private).
describe('the addresses a signer card carries', () => {
  it('puts public before LAN and a relay address before LAN ones, without our /p2p suffix', () => {
    const given = [
      `/ip4/192.168.1.10/tcp/4001/p2p/${SELF}`,
      `/ip4/127.0.0.1/tcp/4001/p2p/${SELF}`,
      `/ip4/5.6.7.8/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${SELF}`,
      `/ip4/1.2.3.4/tcp/4001/p2p/${SELF}`,
    ].map((a) => multiaddr(a));
    expect(cardAddresses(given)).toEqual([
      '/ip4/1.2.3.4/tcp/4001',
      `/ip4/5.6.7.8/tcp/4001/p2p/${RELAY}/p2p-circuit`,
      '/ip4/192.168.1.10/tcp/4001',
      '/ip4/127.0.0.1/tcp/4001',
    ]);
  });

  it('keeps at most 8, so that ten LAN addresses cannot push the relay address out', () => {
    const lan = Array.from({ length: 10 }, (_, i) => multiaddr(`/ip4/10.0.0.${i + 1}/tcp/4001/p2p/${SELF}`));
    const relay = multiaddr(`/ip4/5.6.7.8/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${SELF}`);
    const kept = cardAddresses([...lan, relay]);
    expect(kept).toHaveLength(8);
    expect(kept[0]).toBe(`/ip4/5.6.7.8/tcp/4001/p2p/${RELAY}/p2p-circuit`);
  });
});
