import type { Contact } from '../../preload/contract.ts';
import { checkLanContact } from '../book/lan-contact.ts';
import type { Handlers } from './kit.ts';

export interface ContactsDeps {
  contacts: {
    list(): Contact[];
    nameOf(publicKey: string): string | undefined;
    save(publicKey: string, name: string): Promise<Contact>;
    remove(publicKey: string): Promise<void>;
  };
  /** The local signer's key (hex), or null before one exists. */
  ownKey(): Promise<string | null>;
  /** Keys of the signers this node sees on the LAN now (their cards are unverified). */
  lanKeys(): string[];
  /** A contact was saved: the network keeps its card fresh. */
  onSaved(publicKey: string): void;
}

export function contactHandlers(d: ContactsDeps): Handlers<'contacts.list' | 'contacts.save' | 'contacts.remove'> {
  return {
    'contacts.list': async () => d.contacts.list(),
    'contacts.save': async ({ publicKey, name, safetyCode }) => {
      checkLanContact({
        ownKey: await d.ownKey(),
        publicKey,
        lanKeys: d.lanKeys(),
        alreadySaved: d.contacts.nameOf(publicKey) !== undefined,
        confirmedCode: safetyCode,
      });
      const contact = await d.contacts.save(publicKey, name);
      d.onSaved(publicKey);
      return contact;
    },
    'contacts.remove': async ({ publicKey }) => {
      await d.contacts.remove(publicKey);
      return { ok: true as const };
    },
  };
}
