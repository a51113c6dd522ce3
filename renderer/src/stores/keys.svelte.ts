import type { CosignerBridge, KeyInfo, KeyStatus } from '../../../preload/contract.ts';
import { Synced } from './synced.svelte.ts';

/** A key being created: its words are held by the screen only while the user needs them. */
export interface PendingBackup {
  backupId: string;
  words: string[];
  key: KeyInfo;
}

/** The signer key's status (its `keys` event) and the actions on it. No secret is ever kept here. */
export class KeysStore {
  readonly #bridge: CosignerBridge;
  readonly status: Synced<KeyStatus>;

  constructor(bridge: CosignerBridge) {
    this.#bridge = bridge;
    this.status = new Synced(
      (set) => bridge.subscribe('keys', set),
      () => bridge.call('keys.status', {}),
    );
  }

  /** The local signer's public key, once known. */
  get publicKey(): string | undefined {
    return this.status.value?.key?.publicKey;
  }

  start(): () => void {
    return this.status.start();
  }

  reload(): Promise<void> {
    return this.status.reload();
  }

  beginCreate(): Promise<PendingBackup> {
    return this.#bridge.call('keys.beginCreate', {});
  }

  /** Drops the key made by beginCreate whose backup was not confirmed: nothing of it is kept. */
  async cancelCreate(): Promise<void> {
    await this.#bridge.call('keys.cancelCreate', {});
  }

  /** `mnemonic` is the phrase as the user typed it back, not the words shown: the back end compares. */
  confirmBackup(backupId: string, mnemonic: string): Promise<KeyInfo> {
    return this.#afterwardsReload(this.#bridge.call('keys.confirmBackup', { backupId, mnemonic }));
  }

  importMnemonic(mnemonic: string): Promise<KeyInfo> {
    return this.#afterwardsReload(this.#bridge.call('keys.importMnemonic', { mnemonic }));
  }

  importSecret(secretHex: string): Promise<KeyInfo> {
    return this.#afterwardsReload(this.#bridge.call('keys.importSecret', { secretHex }));
  }

  /** Desktop app: unlocks the key file, or keeps the key in a new one where no keychain works. */
  async useFile(passphrase: string): Promise<void> {
    await this.#afterwardsReload(this.#bridge.call('keys.useFile', { passphrase }));
  }

  async delete(fingerprint: string): Promise<void> {
    await this.#afterwardsReload(this.#bridge.call('keys.delete', { fingerprint }));
  }

  /** A key change also arrives as a `keys` event; asking again covers a carrier that missed it. */
  async #afterwardsReload<T>(action: Promise<T>): Promise<T> {
    const result = await action;
    await this.reload();
    return result;
  }
}
