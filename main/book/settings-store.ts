/** The user's settings, with defaults for everything not set. */
import { Settings } from '../../preload/contract.ts';
import type { RecordStore } from '../storage/record-store.ts';
import { JsonDocument } from './json-document.ts';

export const DEFAULT_SETTINGS: Settings = {
  displayName: '',
  network: 'mainnet',
  listenAddresses: ['/ip4/0.0.0.0/tcp/0'],
  bootstrapPeers: [],
  mdns: true,
  sessionTimeoutSeconds: 2 * 3600,
  stuckSessionTimeoutSeconds: 10 * 60,
  // Retention (docs/PROTOCOL.md §Persistence): a quarter of history to look back on, and a count
  // that bounds the disk (records are a few kB; a PSBT session's up to a few hundred kB).
  sessionRetentionDays: 90,
  maxStoredSessions: 1000,
  allowNonDefaultSighash: false,
  // Public servers work at once but learn the group's addresses and the user's IP address: the
  // Settings screen says so and recommends one's own server. Regtest has no public server.
  chainBackends: {
    mainnet: { esploraUrl: 'https://blockstream.info/api', electrumUrl: null, explorerUrl: 'https://blockstream.info' },
    testnet: { esploraUrl: 'https://blockstream.info/testnet/api', electrumUrl: null, explorerUrl: 'https://blockstream.info/testnet' },
    signet: { esploraUrl: 'https://mempool.space/signet/api', electrumUrl: null, explorerUrl: 'https://mempool.space/signet' },
    regtest: { esploraUrl: null, electrumUrl: null, explorerUrl: null },
  },
  walletGapLimit: 20,
  walletRefreshSeconds: 300,
};

export class SettingsStore {
  readonly #doc: JsonDocument<typeof Settings>;
  #current: Settings;

  private constructor(doc: JsonDocument<typeof Settings>, current: Settings) {
    this.#doc = doc;
    this.#current = current;
  }

  static async open(store: RecordStore): Promise<SettingsStore> {
    const doc = new JsonDocument(store, 'settings', Settings.partial());
    const saved = await doc.load({});
    return new SettingsStore(new JsonDocument(store, 'settings', Settings), { ...DEFAULT_SETTINGS, ...saved });
  }

  get(): Settings {
    return this.#current;
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    const next = Settings.parse({ ...this.#current, ...patch });
    await this.#doc.save(next);
    this.#current = next;
    return next;
  }
}
