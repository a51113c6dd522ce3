/**
 * Opens a protocol stream to a peer on a connection we already hold, a relayed one included, and
 * dials only when there is none. libp2p's own dialProtocol counts only unlimited connections as
 * existing: with a co-signer reachable only through a relay, it opened a fresh relayed connection
 * for every stream, and the relay or the other side closed those duplicates at once ("Remote
 * closed connection during opening"), so every frame after the first failed.
 */
import type { PeerId, Stream } from '@libp2p/interface';
import type { CosignerLibp2p } from './node.ts';

export async function openStream(libp2p: CosignerLibp2p, peer: PeerId, protocol: string, signal: AbortSignal): Promise<Stream> {
  const open = libp2p.getConnections(peer).filter((c) => c.status === 'open');
  const connection = open.find((c) => c.limits == null) ?? open[0];
  if (connection !== undefined) {
    try {
      return await connection.newStream(protocol, { signal, runOnLimitedConnection: true });
    } catch (err) {
      if (signal.aborted) throw err;
      // The connection went away meanwhile: dial.
    }
  }
  return libp2p.dialProtocol(peer, protocol, { signal, runOnLimitedConnection: true });
}
