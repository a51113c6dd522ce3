import { describe, expect, it } from 'vitest';
import { pathWords, reachabilityWords } from '../../../renderer/src/lib/reach.ts';

const relay = (reserved: boolean) => ({
  address: '/ip4/10.0.0.1/tcp/4001/p2p/R',
  peerId: 'R',
  source: 'configured' as const,
  reserved,
  lastError: reserved ? null : 'refused',
});
const base = { publicAddresses: [], relayAddresses: [], upnp: true };

describe('reachability in words', () => {
  it('says how a co-signer is reached', () => {
    expect(pathWords('relayed')).toBe('through a relay');
    expect(pathWords('not-connected')).toBe('not connected');
  });

  it('tells a node behind a NAT with no relay to add one, and one with a failing relay that it failed', () => {
    expect(reachabilityWords({ ...base, status: 'private', relays: [] })).toMatch(/add a relay in Settings/);
    expect(reachabilityWords({ ...base, status: 'private', relays: [relay(false)] })).toMatch(/no relay could be reached/);
    expect(reachabilityWords({ ...base, status: 'relayed', relays: [relay(true), relay(false)] })).toMatch(/^Through a relay/);
    expect(reachabilityWords({ ...base, status: 'public', relays: [] })).toMatch(/public address/);
  });
});
