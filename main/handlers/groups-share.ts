/**
 * groups.export, groups.preview and groups.import: groups shared as a file (or a pasted group
 * descriptor) instead of retyped, and every group backed up in one file (docs/GROUPS.md §Sharing).
 *
 * Importing is two steps on purpose: a file that reached the user through a chat or a mail could
 * have been swapped, so before anything is saved the user compares the group's first receive address
 * with the co-signers' (each app derives it itself), and groups.import takes back the addresses
 * shown: the group saved is the one compared.
 */
import type { HandlersOf } from '../../preload/contract-kit.ts';
import {
  MAX_GROUP_FILE,
  type BitcoinNetwork,
  type Group,
  type GroupInput,
  type GroupPreview,
  type Requests,
} from '../../preload/contract.ts';
import type { z } from 'zod';
import { CosignerError } from '../errors.ts';
import { RECEIVE_BRANCH } from '../wallet/bip328.ts';
import { readShared, writeGroupFile, type SharedGroup } from '../wallet/group-file.ts';
import { groupOutputs } from '../wallet/policy-group.ts';

export interface GroupShareDeps {
  network(): BitcoinNetwork;
  groups: {
    list(): Group[];
    get(id: string): Group;
    has(id: string): boolean;
    save(input: z.infer<typeof GroupInput>): Promise<Group>;
  };
  contacts: {
    nameOf(publicKey: string): string | undefined;
    save(publicKey: string, name: string): Promise<unknown>;
  };
  /** This signer's key, null before one exists (a restore imports groups before or after the key). */
  ownKey(): Promise<string | null>;
  /** The name this signer gives itself (settings.displayName). */
  ownName(): string;
  /** After a group is saved (the signing stack starts watching its co-signers). */
  saved(group: Group): void;
}

type ShareHandlers = Pick<HandlersOf<Requests>, 'groups.export' | 'groups.preview' | 'groups.import'>;

function fileName(groups: readonly Group[]): string {
  if (groups.length !== 1) return 'cosigner-groups.json';
  const slug = (groups[0] as Group).name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 64);
  return `cosigner-group-${slug || 'group'}.json`;
}

export function groupShareHandlers(deps: GroupShareDeps): ShareHandlers {
  async function preview(text: string, name: string | undefined): Promise<{ shared: SharedGroup; view: GroupPreview }[]> {
    const me = await deps.ownKey();
    return readShared(text, deps.network(), name).map((shared) => ({
      shared,
      view: {
        group: shared.group,
        firstAddress: groupOutputs(shared.group).address([RECEIVE_BRANCH, 0], shared.group.network),
        signerNames: [...shared.signerNames],
        alreadySaved: deps.groups.has(shared.group.id),
        includesMe: me !== null && shared.group.publicKeys.includes(me),
      },
    }));
  }

  return {
    'groups.export': async ({ id }) => {
      const groups = id === undefined ? deps.groups.list() : [deps.groups.get(id)];
      if (groups.length === 0) throw new CosignerError('INVALID_INPUT', 'there is no group to export');
      const me = await deps.ownKey();
      const nameOf = (publicKey: string) => (publicKey === me ? deps.ownName() : (deps.contacts.nameOf(publicKey) ?? null));
      const text = writeGroupFile(groups, deps.network(), nameOf);
      if (text.length > MAX_GROUP_FILE) {
        throw new CosignerError(
          'LIMIT_REACHED',
          `the file of every group is over ${MAX_GROUP_FILE / 1024 / 1024} MiB: share or back up the groups one by one`,
        );
      }
      return { fileName: fileName(groups), text };
    },
    'groups.preview': async ({ text, name }) => (await preview(text, name)).map((p) => p.view),
    'groups.import': async ({ text, name, firstAddresses }) => {
      const read = await preview(text, name);
      const shown = read.map((p) => p.view.firstAddress);
      if (firstAddresses.length !== shown.length || shown.some((a, i) => a !== firstAddresses[i])) {
        throw new CosignerError('CONFIRMATION_MISMATCH', 'the addresses confirmed are not this file’s: preview it again and compare', {
          what: 'first-address',
        });
      }
      const me = await deps.ownKey();
      const saved: Group[] = [];
      for (const { shared } of read) {
        const { name: groupName, publicKeys, policy } = shared.group;
        const group = await deps.groups.save({ name: groupName, publicKeys, policy });
        deps.saved(group);
        saved.push(group);
        // Names fill gaps only: a contact the user named is never renamed by a file.
        for (const { publicKey, name: signerName } of shared.signerNames) {
          if (publicKey !== me && deps.contacts.nameOf(publicKey) === undefined) await deps.contacts.save(publicKey, signerName);
        }
      }
      return saved;
    },
  };
}
