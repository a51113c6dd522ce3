/**
 * What runs while a signer key exists: the libp2p node and the session coordinator over it, with
 * their events forwarded to the UI. Started and stopped as one by main/app.ts.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import path from 'node:path';
import type { EventName, Health, NodeStatus, SessionSnapshot, Settings, SignerCardView } from '../preload/contract.ts';
import type { KeyManager, LocalSignerKey } from './keys/index.ts';
import { CosignerNetwork } from './p2p/network.ts';
import type { SignerCard } from './p2p/signer-card.ts';
import { inspectAnnouncement } from './session/announcement.ts';
import { SessionCoordinator } from './session/coordinator.ts';
import type { Clock, GroupById, KnownGroup, Random, Scheduler, TimerHandle } from './session/ports.ts';
import type { GroupKeysCache, SpendKeysCache } from './session/psbt-session.ts';
import { FileRecordStore } from './storage/record-store.ts';
import { rendezvousFromSettings } from './p2p/rendezvous.ts';

export interface SigningStackDeps {
  keys: KeyManager;
  dataDir: string;
  settings: Settings;
  cosigners: () => string[];
  /** Whether a signer set is exactly a saved group's (requests for any other are refused). */
  knownGroup: KnownGroup;
  /** The saved groups by id, for requests naming a group path. */
  groupById?: GroupById;
  /** The user's contacts: their cards are pinned in the directory (never evicted by strangers'). */
  contacts?: () => string[];
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  autoApprove: boolean;
  /** The user's policy on non-DEFAULT sighash types, read at each PSBT intake (a setting). */
  allowNonDefaultSighash: () => boolean;
  /** Shared with the app's PSBT reviews, so a group's derivations are made once. */
  groupKeys?: GroupKeysCache;
  spendKeys?: SpendKeysCache;
  emit: (event: EventName, payload: unknown) => void;
  statusIntervalMs?: number;
}

export class SigningStack {
  readonly network: CosignerNetwork;
  readonly coordinator: SessionCoordinator;
  readonly #signer: LocalSignerKey;
  readonly #deps: SigningStackDeps;
  readonly #detach: (() => void)[] = [];
  #statusTimer: TimerHandle | undefined;

  private constructor(deps: SigningStackDeps, signer: LocalSignerKey, network: CosignerNetwork, coordinator: SessionCoordinator) {
    this.#deps = deps;
    this.#signer = signer;
    this.network = network;
    this.coordinator = coordinator;
  }

  static async start(deps: SigningStackDeps): Promise<SigningStack> {
    const signer = await deps.keys.loadSigner();
    const identity = await deps.keys.peerIdentity();
    const { settings } = deps;
    const network = new CosignerNetwork({
      identity: identity.privateKey(),
      signers: [signer],
      // A signer card needs a name; until the user picks one, the key's fingerprint stands in.
      displayName: settings.displayName || `Cosigner ${signer.fingerprint}`,
      inspectAnnouncement,
      clock: deps.clock,
      scheduler: deps.scheduler,
      random: deps.random,
      listen: settings.listenAddresses,
      bootstrap: settings.bootstrapPeers,
      relays: settings.relays ?? [],
      upnp: settings.upnp !== false,
      ...rendezvousFromSettings(settings),
      mdns: { enabled: settings.mdns },
      cosigners: deps.cosigners().map((k) => hexToBytes(k)),
      pinned: (deps.contacts?.() ?? []).map((k) => hexToBytes(k)),
    });
    await network.start();
    let coordinator: SessionCoordinator;
    try {
      coordinator = new SessionCoordinator({
        clock: deps.clock,
        scheduler: deps.scheduler,
        random: deps.random,
        transport: network.transport,
        store: await FileRecordStore.open(path.join(deps.dataDir, 'sessions')),
        signer,
        knownGroup: deps.knownGroup,
        ...(deps.groupById ? { groupById: deps.groupById } : {}),
        ...(deps.groupKeys ? { groupKeys: deps.groupKeys } : {}),
        ...(deps.spendKeys ? { spendKeys: deps.spendKeys } : {}),
        options: {
          sessionTimeoutMs: settings.sessionTimeoutSeconds * 1000,
          stuckSessionTimeoutMs: settings.stuckSessionTimeoutSeconds * 1000,
          recordRetentionMs: settings.sessionRetentionDays * 24 * 3_600_000,
          maxStoredRecords: settings.maxStoredSessions,
          autoApprove: deps.autoApprove ? () => true : undefined,
          bitcoinNetwork: settings.network,
          allowNonDefaultSighash: deps.allowNonDefaultSighash,
        },
      });
      await coordinator.start();
    } catch (e) {
      await network.stop();
      throw e;
    }
    const stack = new SigningStack(deps, signer, network, coordinator);
    stack.#wire();
    return stack;
  }

  #wire(): void {
    const { emit, scheduler } = this.#deps;
    this.#detach.push(this.coordinator.on('session', (s) => emit('session', s)));
    this.#detach.push(
      this.network.on('card', (_card, source) => {
        if (source === 'direct') emit('peers.lan', this.lanPeers());
      }),
    );
    this.#statusTimer = scheduler.setInterval(() => {
      if (this.network.running) emit('node', this.nodeStatus());
    }, this.#deps.statusIntervalMs ?? 5000);
  }

  nodeStatus(): NodeStatus {
    return this.network.status();
  }

  health(): Omit<Health, 'invalidEvents' | 'failures'> {
    return { node: this.nodeStatus(), coordinator: this.coordinator.health() };
  }

  lanPeers(): SignerCardView[] {
    return this.network.lanPeers().flatMap((peer) =>
      peer.cards.map((c) => ({
        publicKey: c.signerKey,
        peerId: c.peerId,
        displayName: c.displayName,
        addresses: peer.addresses.slice(0, 16),
        issuedAt: c.issuedAt,
        source: 'lan' as const,
      })),
    );
  }

  async lookup(publicKey: string): Promise<SignerCardView | null> {
    const card: SignerCard | undefined = await this.network.findSigner(hexToBytes(publicKey), { refresh: true });
    if (!card) return null;
    return {
      publicKey: bytesToHex(card.signerKey),
      peerId: card.peerId,
      displayName: card.displayName,
      addresses: card.multiaddrs.slice(0, 16),
      issuedAt: card.issuedAt,
      source: 'dht',
    };
  }

  watchCosigners(keys: readonly string[]): void {
    this.network.watchCosigners(keys.map((k) => hexToBytes(k)));
  }

  /** A contact's card stays in the directory whatever strangers' cards arrive. */
  pinContact(publicKey: string): void {
    this.network.pinSigners([hexToBytes(publicKey)]);
  }

  /** Sessions are persisted by the coordinator before it reports them; stopping closes them cleanly. */
  async stop(): Promise<void> {
    if (this.#statusTimer) this.#deps.scheduler.clear(this.#statusTimer);
    for (const d of this.#detach.splice(0)) d();
    await this.coordinator.cleanup();
    await this.network.stop();
    this.#signer.dispose();
  }
}
