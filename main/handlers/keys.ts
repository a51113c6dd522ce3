import { bytesToHex } from '@noble/hashes/utils.js';
import type { KeyStatus } from '../../preload/contract.ts';
import type { KeyInfo, KeyManager, PendingKey } from '../keys/index.ts';
import type { Handlers } from './kit.ts';

type KeyRequest =
  | 'keys.status'
  | 'keys.beginCreate'
  | 'keys.confirmBackup'
  | 'keys.cancelCreate'
  | 'keys.importMnemonic'
  | 'keys.importSecret'
  | 'keys.useFile'
  | 'keys.delete';

export interface KeysDeps {
  keys: KeyManager;
  keyStatus(): Promise<KeyStatus>;
  /** A key was created, imported or deleted: the UI hears the new status. */
  afterKeyChange(): Promise<void>;
  /** The signing stack starts once a key exists... */
  startStack(): Promise<unknown>;
  /** ...and stops before it is deleted. */
  stopStack(): Promise<void>;
  /** Keeps the key in the encrypted key file (desktop app, where no keychain works): unlocks the
   *  file chosen before, or creates it (main/keys/use-key-file.ts). */
  useFile(passphrase: string): Promise<void>;
}

export function keyView(info: { publicKey: Uint8Array | string; fingerprint: string }): { publicKey: string; fingerprint: string } {
  return {
    publicKey: typeof info.publicKey === 'string' ? info.publicKey : bytesToHex(info.publicKey),
    fingerprint: info.fingerprint,
  };
}

export function keyHandlers(d: KeysDeps): Handlers<KeyRequest> {
  const { keys } = d;
  // The one key creation in progress (a new one replaces it): its words are shown until confirmed.
  const pending = new Map<string, PendingKey>();

  async function withKeyCreated<T extends KeyInfo>(made: Promise<T>) {
    const info = await made;
    await d.afterKeyChange();
    await d.startStack();
    return keyView(info);
  }

  return {
    'keys.status': () => d.keyStatus(),
    'keys.beginCreate': async () => {
      const p = await keys.beginCreate();
      pending.clear();
      pending.set(p.id, p);
      return { backupId: p.id, words: p.words(), key: keyView({ publicKey: p.publicKey, fingerprint: p.fingerprint }) };
    },
    'keys.confirmBackup': async ({ backupId, mnemonic }) => {
      const info = await withKeyCreated(keys.confirmBackup(backupId, mnemonic));
      pending.delete(backupId);
      return info;
    },
    'keys.cancelCreate': async () => {
      await keys.cancelCreate();
      pending.clear();
      return { ok: true as const };
    },
    'keys.importMnemonic': async ({ mnemonic }) => withKeyCreated(keys.importMnemonic(mnemonic)),
    'keys.importSecret': async ({ secretHex }) => withKeyCreated(keys.importSecretHex(secretHex)),
    'keys.useFile': async ({ passphrase }) => {
      await d.useFile(passphrase);
      await d.afterKeyChange();
      const status = await d.keyStatus();
      if (status.key) await d.startStack();
      return status;
    },
    'keys.delete': async ({ fingerprint }) => {
      await d.stopStack();
      await keys.delete(fingerprint);
      await d.afterKeyChange();
      return { ok: true as const };
    },
  };
}
