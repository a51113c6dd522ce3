/** Contacts: co-signer public keys the user has named. */
import { z } from 'zod';
import { Contact } from '../../preload/contract.ts';
import { hexToBytes } from '@noble/hashes/utils.js';
import type { Clock } from '../session/ports.ts';
import { CosignerError } from '../errors.ts';
import { isValidSignerKey } from '../p2p/signer-card.ts';
import type { RecordStore } from '../storage/record-store.ts';
import { JsonDocument } from './json-document.ts';

export const MAX_CONTACTS = 1000;

export class ContactBook {
  readonly #doc: JsonDocument<z.ZodArray<typeof Contact>>;
  readonly #clock: Clock;
  #contacts = new Map<string, Contact>();

  private constructor(doc: JsonDocument<z.ZodArray<typeof Contact>>, clock: Clock) {
    this.#doc = doc;
    this.#clock = clock;
  }

  static async open(store: RecordStore, clock: Clock): Promise<ContactBook> {
    const book = new ContactBook(new JsonDocument(store, 'contacts', z.array(Contact).max(MAX_CONTACTS)), clock);
    for (const c of await book.#doc.load([])) book.#contacts.set(c.publicKey, c);
    return book;
  }

  list(): Contact[] {
    return [...this.#contacts.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  nameOf(publicKey: string): string | undefined {
    return this.#contacts.get(publicKey)?.name;
  }

  async save(publicKey: string, name: string): Promise<Contact> {
    // The contract checks the form (33 bytes, 02/03); only decoding says whether it is a point.
    if (!isValidSignerKey(hexToBytes(publicKey)))
      throw new CosignerError('INVALID_PUBLIC_KEY', 'this is not a valid public key (not a point on the curve)');
    const existing = this.#contacts.get(publicKey);
    if (!existing && this.#contacts.size >= MAX_CONTACTS) {
      throw new CosignerError('LIMIT_REACHED', `at most ${MAX_CONTACTS} contacts`);
    }
    const contact: Contact = { publicKey, name, addedAt: existing?.addedAt ?? this.#clock.now() };
    const next = new Map(this.#contacts).set(publicKey, contact);
    await this.#doc.save([...next.values()]);
    this.#contacts = next;
    return contact;
  }

  async remove(publicKey: string): Promise<void> {
    if (!this.#contacts.has(publicKey)) throw new CosignerError('INVALID_INPUT', 'no such contact');
    const next = new Map(this.#contacts);
    next.delete(publicKey);
    await this.#doc.save([...next.values()]);
    this.#contacts = next;
  }
}
