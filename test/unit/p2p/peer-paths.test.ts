import { multiaddr } from '@multiformats/multiaddr';
import { describe, expect, it } from 'vitest';
import { pathOf } from '../../../main/p2p/peer-paths.ts';
import { relayOfCircuitAddress } from '../../../main/p2p/relay-keeper.ts';

const RELAY = '12D3KooWDqA4t71b4UF4zjnmwtH8LsaMhafDYLnAgGEpRsMf83bx';
const PEER = '12D3KooWHhzhn42bkZhk6wBnAh7iViLpvBYEovDAovYxntr2XHtd';
const conn = (addr: string, status: 'open' | 'closed' = 'open') => ({ remoteAddr: multiaddr(addr), status });

describe('how a peer is reached', () => {
  it('prefers the LAN, then a public address, then a relay, and names the relay', () => {
    const relayed = conn(`/ip4/203.0.113.9/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`);
    expect(pathOf([relayed])).toEqual({ path: 'relayed', relay: RELAY });
    expect(pathOf([relayed, conn('/ip4/8.8.4.4/tcp/4001')])).toEqual({ path: 'direct', relay: null });
    expect(pathOf([conn('/ip4/8.8.4.4/tcp/4001'), conn('/ip4/192.168.1.7/tcp/4001')])).toEqual({ path: 'lan', relay: null });
    expect(pathOf([conn('/ip4/192.168.1.7/tcp/4001', 'closed')])).toEqual({ path: 'not-connected', relay: null });
    expect(pathOf([])).toEqual({ path: 'not-connected', relay: null });
  });

  it('reads the relay out of a circuit address, and nothing out of others', () => {
    expect(relayOfCircuitAddress(`/ip4/10.99.0.1/tcp/4001/p2p/${RELAY}/p2p-circuit`)).toBe(`/ip4/10.99.0.1/tcp/4001/p2p/${RELAY}`);
    expect(relayOfCircuitAddress(`/ip4/10.99.0.1/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`)).toBe(
      `/ip4/10.99.0.1/tcp/4001/p2p/${RELAY}`,
    );
    expect(relayOfCircuitAddress('/ip4/10.99.0.1/tcp/4001/p2p-circuit')).toBeUndefined();
    expect(relayOfCircuitAddress(`/ip4/10.99.0.1/tcp/4001/p2p/${RELAY}`)).toBeUndefined();
    expect(relayOfCircuitAddress('/p2p-circuit')).toBeUndefined();
  });
});
