import type { z } from 'zod';
import type { Group, GroupInput } from '../../preload/contract.ts';
import { groupWallet } from '../group-wallet.ts';
import type { Handlers } from './kit.ts';

export interface GroupsDeps {
  groups: {
    list(): Group[];
    /** Throws INVALID_INPUT for an unknown id. */
    get(id: string): Group;
    save(input: z.infer<typeof GroupInput>): Promise<Group>;
    remove(id: string): Promise<void>;
  };
  /** A group was saved: the network starts watching its co-signers. */
  onSaved(group: Group): void;
}

export function groupHandlers(d: GroupsDeps): Handlers<'groups.list' | 'groups.save' | 'groups.remove' | 'groups.wallet'> {
  return {
    'groups.list': async () => d.groups.list(),
    'groups.save': async (input) => {
      const group = await d.groups.save(input);
      d.onSaved(group);
      return group;
    },
    'groups.remove': async ({ id }) => {
      await d.groups.remove(id);
      return { ok: true as const };
    },
    'groups.wallet': async ({ id }) => groupWallet(d.groups.get(id)),
  };
}
