/** Co-signer groups the user has saved: a name, a set of keys and a policy; everything else is derived. */
import { bytesToHex } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { GroupInput, type BitcoinNetwork, type Group } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import type { RecordStore } from '../storage/record-store.ts';
import { sortKeys } from '../musig/index.ts';
import { describePolicyGroup, keyPathOnlyGroup } from '../wallet/policy-group.ts';
import { JsonDocument } from './json-document.ts';

export const MAX_GROUPS = 200;
const Saved = z.array(GroupInput).max(MAX_GROUPS);
type Saved = z.infer<typeof GroupInput>;

export class GroupBook {
  readonly #doc: JsonDocument<typeof Saved>;
  #groups = new Map<string, Group>();
  #network: BitcoinNetwork;

  private constructor(doc: JsonDocument<typeof Saved>, network: BitcoinNetwork) {
    this.#doc = doc;
    this.#network = network;
  }

  static async open(store: RecordStore, network: BitcoinNetwork): Promise<GroupBook> {
    const book = new GroupBook(new JsonDocument(store, 'groups', Saved), network);
    for (const g of await book.#doc.load([])) {
      const group = describePolicyGroup(g.name, g.publicKeys, network, g.policy);
      book.#groups.set(group.id, group);
    }
    return book;
  }

  list(): Group[] {
    return [...this.#groups.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(id: string): Group {
    const group = this.#groups.get(id);
    if (!group) throw new CosignerError('INVALID_INPUT', 'no such group', { id });
    return group;
  }

  /**
   * Whether these keys (33 bytes each, any order) are exactly a saved n-of-n group's with no script
   * tree: a request that names no group path (docs/PROTOCOL.md §Receiving) signs for that group's
   * key-path-only address, which a k-of-n group or one with a recovery path of the same keys never uses.
   */
  knows(signers: readonly Uint8Array[]): boolean {
    const wanted = sortKeys([...signers])
      .map((k) => bytesToHex(k))
      .join(',');
    for (const group of this.#groups.values()) {
      if (group.publicKeys.join(',') === wanted && keyPathOnlyGroup(group)) return true;
    }
    return false;
  }

  /** Whether a group with this id (keys and policy) is saved. */
  has(id: string): boolean {
    return this.#groups.has(id);
  }

  /** Saving a key set and policy that exist already renames the group: the id depends on them only. */
  async save(input: Saved): Promise<Group> {
    const group = describePolicyGroup(input.name, input.publicKeys, this.#network, input.policy);
    if (!this.#groups.has(group.id) && this.#groups.size >= MAX_GROUPS) {
      throw new CosignerError('LIMIT_REACHED', `at most ${MAX_GROUPS} groups`);
    }
    await this.#commit(new Map(this.#groups).set(group.id, group));
    return group;
  }

  async remove(id: string): Promise<void> {
    this.get(id);
    const next = new Map(this.#groups);
    next.delete(id);
    await this.#commit(next);
  }

  async #commit(next: Map<string, Group>): Promise<void> {
    // An n-of-n group is stored as before policies existed, so an older version still reads it.
    await this.#doc.save(
      [...next.values()].map((g) => ({
        name: g.name,
        publicKeys: g.publicKeys,
        ...(g.policy && !keyPathOnlyGroup(g) ? { policy: g.policy } : {}),
      })),
    );
    this.#groups = next;
  }
}
