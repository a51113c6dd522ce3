import type { CosignerBridge, Health, NodeStatus, SignerCardView } from '../../../preload/contract.ts';
import { Synced } from './synced.svelte.ts';

/** The local node (its `node` event), the coordinator's health (polled), and co-signers seen on the LAN. */
export class NodeStore {
  readonly #bridge: CosignerBridge;
  readonly status: Synced<NodeStatus>;
  readonly lan: Synced<SignerCardView[]>;
  coordinator: Health['coordinator'] | undefined = $state.raw(undefined);
  healthError: unknown = $state.raw(null);

  constructor(bridge: CosignerBridge) {
    this.#bridge = bridge;
    this.status = new Synced(
      (set) => bridge.subscribe('node', set),
      () => bridge.call('node.status', {}),
    );
    this.lan = new Synced(
      (set) => bridge.subscribe('peers.lan', set),
      () => bridge.call('peers.lan', {}),
    );
  }

  start(): () => void {
    const offs = [this.status.start(), this.lan.start()];
    void this.refreshHealth();
    return () => offs.forEach((off) => off());
  }

  async reload(): Promise<void> {
    await Promise.all([this.status.reload(), this.lan.reload(), this.refreshHealth()]);
  }

  /** The coordinator has no event: the home screen asks again while it is shown. */
  async refreshHealth(): Promise<void> {
    try {
      this.coordinator = (await this.#bridge.call('health.get', {})).coordinator;
      this.healthError = null;
    } catch (error) {
      this.healthError = error;
    }
  }

  lookup(publicKey: string): Promise<SignerCardView | null> {
    return this.#bridge.call('peers.lookup', { publicKey });
  }
}
