import type { CosignerBridge } from '../../../preload/contract.ts';
import { AddressBook } from './address-book.svelte.ts';
import { DesktopStore } from './desktop.svelte.ts';
import { HistoryStore } from './history.svelte.ts';
import { KeysStore } from './keys.svelte.ts';
import { NodeStore } from './node.svelte.ts';
import { SessionsStore } from './sessions.svelte.ts';
import { SettingsStore } from './settings.svelte.ts';

/** Who a public key is, as far as this user knows. A LAN name is self-declared and never trusted. */
export type SignerIdentity = { kind: 'you' } | { kind: 'contact'; name: string } | { kind: 'unknown'; lanName: string | undefined };

/** Every store of the UI over one bridge. */
export class AppStores {
  readonly sessions: SessionsStore;
  readonly history: HistoryStore;
  readonly node: NodeStore;
  readonly keys: KeysStore;
  readonly book: AddressBook;
  readonly settings: SettingsStore;
  readonly desktop: DesktopStore;

  constructor(bridge: CosignerBridge) {
    this.sessions = new SessionsStore(bridge);
    this.history = new HistoryStore(bridge);
    this.node = new NodeStore(bridge);
    this.keys = new KeysStore(bridge);
    this.book = new AddressBook(bridge);
    this.settings = new SettingsStore(bridge);
    this.desktop = new DesktopStore(bridge);
  }

  /** Subscribes every store to its events, then loads; returns the unsubscribe. */
  start(): () => void {
    const offs = [this.keys.start(), this.sessions.start(), this.node.start(), this.desktop.start()];
    void this.book.reload();
    void this.settings.reload();
    return () => offs.forEach((off) => off());
  }

  /** After a reconnection: events may have been missed, so everything is asked for again. */
  async reload(): Promise<void> {
    await Promise.all([
      this.keys.reload(),
      this.sessions.reload(),
      this.node.reload(),
      this.book.reload(),
      this.settings.reload(),
      this.desktop.reload(),
    ]);
  }

  identify(publicKey: string): SignerIdentity {
    if (publicKey === this.keys.publicKey) return { kind: 'you' };
    const contact = this.book.contactFor(publicKey);
    if (contact) return { kind: 'contact', name: contact.name };
    const card = this.node.lan.value?.find((c) => c.publicKey === publicKey);
    return { kind: 'unknown', lanName: card?.displayName || undefined };
  }
}
