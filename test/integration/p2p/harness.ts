/**
 * Real Cosigner networks on 127.0.0.1 for the p2p integration tests: real libp2p nodes, real time,
 * short timeouts, the test announcement format, and helpers to wait for a condition.
 */
import { CosignerNetwork } from '../../../main/p2p/network.ts';
import type { NetworkConfig } from '../../../main/p2p/network.ts';
import { generatePeerIdentity } from '../../../main/p2p/identity.ts';
import type { SignerKey } from '../../../main/p2p/signer-card.ts';
import type { Clock, Scheduler, TimerHandle } from '../../../main/session/ports.ts';
import { systemRandom } from '../../../main/system-ports.ts';
import { seededRandom } from '../../support/random.ts';
import { testSigner } from '../../support/signers.ts';
import { inspectTestAnnouncement } from '../../support/p2p-fixtures.ts';

export const realClock: Clock = { now: () => Date.now() };

/** Real timers behind the Scheduler port; each network gets its own so stop() can be checked. */
export function realScheduler(): Scheduler {
  const timers = new Map<number, NodeJS.Timeout>();
  let next = 1;
  return {
    setTimeout(fn, ms): TimerHandle {
      const id = next++;
      timers.set(
        id,
        setTimeout(() => {
          timers.delete(id);
          fn();
        }, ms),
      );
      return { id };
    },
    setInterval(fn, ms): TimerHandle {
      const id = next++;
      timers.set(id, setInterval(fn, ms));
      return { id };
    },
    clear(handle) {
      const t = timers.get(handle.id);
      if (t !== undefined) {
        clearTimeout(t);
        clearInterval(t);
        timers.delete(handle.id);
      }
    },
  };
}

export const FAST_TIMEOUTS = {
  frameMs: 3000,
  dhtMs: 5000,
  inboxPollIntervalMs: 60_000,
  inboxRepublishIntervalMs: 60_000,
  cardRepublishIntervalMs: 60_000,
  bootstrapRetryMs: 2000,
};

export interface TestNode {
  label: string;
  signer: SignerKey;
  network: CosignerNetwork;
  /** /ip4/127.0.0.1/tcp/<port>/p2p/<id>, to bootstrap others from ('' for a node that listens nowhere). */
  addr: string;
}

export async function startNode(label: string, options: Partial<NetworkConfig> = {}): Promise<TestNode> {
  const signer = options.signers?.[0] ?? testSigner(label);
  const network = new CosignerNetwork({
    identity: await generatePeerIdentity(seededRandom(`peer/${label}`)),
    signers: [signer],
    displayName: label,
    inspectAnnouncement: inspectTestAnnouncement,
    clock: realClock,
    scheduler: realScheduler(),
    random: systemRandom,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    timeouts: FAST_TIMEOUTS,
    retry: { initialDelayMs: 100, maxDelayMs: 1000, attemptTimeoutMs: 4000 },
    // No router on loopback to ask for a port mapping.
    upnp: false,
    ...options,
  });
  await network.start();
  const addr = network.libp2p.getMultiaddrs()[0]?.toString();
  // A node asked to listen nowhere (dial-only, as behind a NAT) has no address to give.
  if (addr === undefined && options.listen?.length !== 0) throw new Error(`${label} has no listen address`);
  return { label, signer, network, addr: addr ?? '' };
}

export async function stopAll(nodes: readonly (TestNode | undefined)[]): Promise<void> {
  await Promise.all(nodes.map((n) => n?.network.stop()));
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    // The poll interval only: what is waited for is the probe, checked again each time.
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Frames a network's subscriber received, in order. */
export function collect(node: TestNode): { frame: Uint8Array; fromPeer: string }[] {
  const got: { frame: Uint8Array; fromPeer: string }[] = [];
  node.network.transport.subscribe((f) => {
    got.push(f);
    return 'accepted';
  });
  return got;
}
