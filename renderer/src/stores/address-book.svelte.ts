import type { Contact, CosignerBridge, Group, GroupPreview, Requests } from '../../../preload/contract.ts';
import type { ArgsOf } from '../../../preload/contract-kit.ts';

/**
 * Contacts and groups. They have no events (only this UI changes them), so each change is followed
 * by asking the back end for the list again: what is shown is what is stored.
 */
export class AddressBook {
  readonly #bridge: CosignerBridge;
  contacts: Contact[] = $state.raw([]);
  groups: Group[] = $state.raw([]);
  loaded = $state(false);
  error: unknown = $state.raw(null);

  constructor(bridge: CosignerBridge) {
    this.#bridge = bridge;
  }

  async reload(): Promise<void> {
    try {
      const [contacts, groups] = await Promise.all([this.#bridge.call('contacts.list', {}), this.#bridge.call('groups.list', {})]);
      this.contacts = contacts.toSorted((a, b) => a.name.localeCompare(b.name));
      this.groups = groups.toSorted((a, b) => a.name.localeCompare(b.name));
      this.error = null;
      this.loaded = true;
    } catch (error) {
      this.error = error;
    }
  }

  contactFor(publicKey: string): Contact | undefined {
    return this.contacts.find((c) => c.publicKey === publicKey);
  }

  /** The group a session signs for, found by its output key (taproot) or aggregate key (plain). */
  groupForSigningKey(signingKey: string): Group | undefined {
    return this.groups.find((g) => g.outputKey === signingKey || g.aggregateKey === signingKey);
  }

  /** `safetyCode`: the code the user compared with the owner of a key found on the LAN. */
  async saveContact(publicKey: string, name: string, safetyCode?: string): Promise<Contact> {
    const contact = await this.#bridge.call(
      'contacts.save',
      safetyCode === undefined ? { publicKey, name } : { publicKey, name, safetyCode },
    );
    await this.reload();
    return contact;
  }

  async removeContact(publicKey: string): Promise<void> {
    await this.#bridge.call('contacts.remove', { publicKey });
    await this.reload();
  }

  async saveGroup(input: ArgsOf<Requests, 'groups.save'>): Promise<Group> {
    const group = await this.#bridge.call('groups.save', input);
    await this.reload();
    return group;
  }

  /** The group file of one group (to share) or of every group (a backup). */
  async exportGroups(id?: string): Promise<{ fileName: string; text: string }> {
    return this.#bridge.call('groups.export', id === undefined ? {} : { id });
  }

  async previewGroups(text: string, name?: string): Promise<GroupPreview[]> {
    return this.#bridge.call('groups.preview', name === undefined ? { text } : { text, name });
  }

  /** `firstAddresses`: those the preview showed and the user compared. */
  async importGroups(text: string, firstAddresses: string[], name?: string): Promise<Group[]> {
    const groups = await this.#bridge.call('groups.import', name === undefined ? { text, firstAddresses } : { text, name, firstAddresses });
    await this.reload();
    return groups;
  }

  async removeGroup(id: string): Promise<void> {
    await this.#bridge.call('groups.remove', { id });
    await this.reload();
  }
}
