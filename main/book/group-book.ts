/** Co-signer groups the user has saved: a name and a set of keys; everything else is derived. */
import { z } from 'zod';
import { GroupInput, type BitcoinNetwork, type Group } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import type { RecordStore } from '../storage/record-store.ts';
import { sortKeys } from '../musig/index.ts';
import { describeGroup, groupId } from '../wallet/group.ts';
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
      const group = describeGroup(g.name, g.publicKeys, network);
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

  /** Whether these keys (33 bytes each, any order) are exactly a saved group's: the coordinator
   *  takes requests only for those (docs/PROTOCOL.md §Receiving). */
  knows(signers: readonly Uint8Array[]): boolean {
    return this.#groups.has(groupId(sortKeys([...signers])));
  }

  /** Saving a key set that exists already renames it: the id depends on the keys only. */
  async save(input: Saved): Promise<Group> {
    const group = describeGroup(input.name, input.publicKeys, this.#network);
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
    await this.#doc.save([...next.values()].map((g) => ({ name: g.name, publicKeys: g.publicKeys })));
    this.#groups = next;
  }
}
