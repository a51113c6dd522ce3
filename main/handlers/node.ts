import type { SigningStack } from '../signing-stack.ts';
import type { Handlers } from './kit.ts';

export interface NodeDeps {
  info: { version: string; mode: 'electron' | 'headless'; dataDir: string };
  /** This node's libp2p identity, or null when the keystore cannot give it. */
  peerId(): Promise<string | null>;
  /** The running signing stack; throws KEY_NOT_FOUND when there is no signer key yet. */
  stack(): SigningStack;
  /** The running signing stack, if any. */
  running(): SigningStack | undefined;
  /** Events the gate refused to send (outside the contract). */
  invalidEvents(): number;
  /** Work nobody awaits that failed (main/failure-counts.ts), by where. */
  failures(): Record<string, number>;
}

export function nodeHandlers(d: NodeDeps): Handlers<'app.info' | 'node.status' | 'health.get' | 'peers.lan' | 'peers.lookup'> {
  return {
    'app.info': async () => ({ ...d.info, peerId: await d.peerId() }),
    'node.status': async () => d.stack().nodeStatus(),
    'health.get': async () => ({ ...d.stack().health(), invalidEvents: d.invalidEvents(), failures: d.failures() }),
    'peers.lan': async () => d.running()?.lanPeers() ?? [],
    'peers.lookup': async ({ publicKey }) => d.stack().lookup(publicKey),
  };
}
