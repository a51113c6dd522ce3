import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { base32 } from 'multiformats/bases/base32';
import { announcedAddresses, PUBLIC_BOOTSTRAP, rendezvousCid, rendezvousFromSettings } from '../../../main/p2p/rendezvous.ts';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

describe('rendezvous on the public network', () => {
  it('provides under CIDv1 raw sha2-256 of the BIP340 tagged hash of the signer key (computed here with node:crypto)', () => {
    const key = Uint8Array.from(Buffer.from('02' + '11'.repeat(32), 'hex'));
    const tag = sha256(Buffer.from('Cosigner/rendezvous'));
    const digest = sha256(tag, tag, key);
    const bytes = Buffer.concat([Buffer.from([0x01, 0x55, 0x12, 0x20]), digest]);
    expect(rendezvousCid(key).toString()).toBe(base32.encode(bytes));
    expect(rendezvousCid(key).bytes).toEqual(new Uint8Array(bytes));
  });

  it('announces relayed and public addresses, never LAN or loopback ones', () => {
    const relayed = '/ip4/10.99.0.1/tcp/4001/p2p/12D3KooWPVw6r8ZdiuKoqK5zNWocUF2eRkfAvA76dNMjFZk99H6Q/p2p-circuit';
    const kept = announcedAddresses(
      ['/ip4/192.168.1.2/tcp/4001', '/ip4/127.0.0.1/tcp/4001', '/ip4/198.51.200.7/tcp/4001', relayed].map((a) => multiaddr(a)),
    );
    expect(kept.map(String)).toEqual(['/ip4/198.51.200.7/tcp/4001', relayed]);
  });

  it('is on for mainnet unless turned off, elsewhere only when asked, with the public bootstrappers unless given others', () => {
    expect(rendezvousFromSettings({ network: 'mainnet' })).toEqual({
      rendezvous: { bootstrap: PUBLIC_BOOTSTRAP, addresses: 'public-only' },
    });
    expect(rendezvousFromSettings({ network: 'mainnet', publicNetwork: false })).toEqual({});
    expect(rendezvousFromSettings({ network: 'regtest' })).toEqual({});
    expect(rendezvousFromSettings({ network: 'signet', publicNetwork: true })).toEqual({
      rendezvous: { bootstrap: PUBLIC_BOOTSTRAP, addresses: 'public-only' },
    });
    expect(rendezvousFromSettings({ network: 'regtest', publicBootstrap: ['/ip4/10.99.0.1/tcp/4001/p2p/x'] })).toEqual({
      rendezvous: { bootstrap: ['/ip4/10.99.0.1/tcp/4001/p2p/x'], addresses: 'all' },
    });
    expect(
      rendezvousFromSettings({ network: 'mainnet', publicNetwork: false, publicBootstrap: ['/ip4/10.99.0.1/tcp/4001/p2p/x'] }),
    ).toEqual({});
  });
});
