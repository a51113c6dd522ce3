/**
 * The group file: how a group is shared with its co-signers (one group) and backed up (every group).
 * JSON, public data only; docs/GROUPS.md §Sharing gives the format and why it is not BSMS.
 *
 * Each group is carried by its BIP390 group descriptor (what readGroupDescriptor reads back, strictly),
 * with its policy, its ranged receive and change descriptors (what Bitcoin Core imports) and names
 * for its signers. Reading checks that these independent statements agree: the policy written
 * equals the descriptor's, the ranged descriptors are ours for that group on the file's network,
 * and names are given for exactly the group's keys.
 */
import { z } from 'zod';
import { BitcoinNetwork, GroupPolicy as PolicySchema, PublicKeyHex, type Group } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { MAX_DESCRIPTOR_LENGTH, readGroupDescriptor } from './descriptor-import.ts';
import { describePolicyGroup, groupOutputs } from './policy-group.ts';
import { policyDescriptors } from './threshold-descriptor.ts';

export const GROUP_FILE_FORMAT = 'cosigner-groups';
export const GROUP_FILE_VERSION = 1;
export const MAX_FILE_GROUPS = 200;

const Descriptor = z.string().min(1).max(MAX_DESCRIPTOR_LENGTH);
const Name = z.string().trim().min(1).max(64);
const FileGroup = z
  .object({
    name: Name,
    policy: PolicySchema,
    descriptor: Descriptor,
    receive: Descriptor,
    change: Descriptor,
    signers: z
      .array(z.object({ publicKey: PublicKeyHex, name: Name.nullable() }).strict())
      .min(1)
      .max(16),
  })
  .strict();
const GroupFile = z
  .object({
    format: z.literal(GROUP_FILE_FORMAT),
    version: z.literal(GROUP_FILE_VERSION),
    network: BitcoinNetwork,
    groups: z.array(FileGroup).min(1).max(MAX_FILE_GROUPS),
  })
  .strict();
type FileGroup = z.infer<typeof FileGroup>;

export interface SharedGroup {
  readonly group: Group;
  /** Names the file gives the signers (keys it names null are left out). */
  readonly signerNames: readonly { readonly publicKey: string; readonly name: string }[];
}

function refuse(message: string, context: Record<string, number | string> = {}): CosignerError {
  return new CosignerError('INVALID_INPUT', message, context);
}

/** The file for `groups`, names from `nameOf` (null: no name known). */
export function writeGroupFile(groups: readonly Group[], network: BitcoinNetwork, nameOf: (publicKey: string) => string | null): string {
  const entries = groups.map((group): FileGroup => {
    const d = policyDescriptors(groupOutputs(group), network);
    return {
      name: group.name,
      policy: group.policy ?? { kind: 'n-of-n' },
      descriptor: d.keyPath,
      receive: d.receive,
      change: d.change,
      signers: group.publicKeys.map((publicKey) => ({ publicKey, name: nameOf(publicKey) })),
    };
  });
  return `${JSON.stringify({ format: GROUP_FILE_FORMAT, version: GROUP_FILE_VERSION, network, groups: entries }, null, 2)}\n`;
}

/**
 * The groups of a file, or of one pasted group descriptor (named `name`, on `network`), each checked.
 * A file for another network is refused: its addresses would not be this app's.
 */
export function readShared(text: string, network: BitcoinNetwork, name = 'Imported group'): SharedGroup[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    const { publicKeys, policy } = readGroupDescriptor(trimmed);
    return [{ group: describePolicyGroup(name, publicKeys, network, policy), signerNames: [] }];
  }
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    throw refuse('this is neither a group file (JSON) nor a group descriptor');
  }
  const parsed = GroupFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw refuse(`not a Cosigner group file: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unreadable'}`);
  }
  if (parsed.data.network !== network) {
    throw refuse(`this file is for ${parsed.data.network}; this app runs on ${network}`, { network: parsed.data.network });
  }
  return parsed.data.groups.map((entry, index) => readEntry(entry, network, index));
}

function readEntry(entry: FileGroup, network: BitcoinNetwork, index: number): SharedGroup {
  const { publicKeys, policy } = readGroupDescriptor(entry.descriptor);
  const group = describePolicyGroup(entry.name, publicKeys, network, policy);
  // The policy is written twice, once in words a person can read: both must say the same.
  const stated = describePolicyGroup(entry.name, publicKeys, network, entry.policy);
  if (stated.id !== group.id) throw refuse(`group ${index + 1}: its policy does not match its descriptor`, { index });
  const d = policyDescriptors(groupOutputs(group), network);
  if (entry.receive !== d.receive || entry.change !== d.change) {
    throw refuse(`group ${index + 1}: its receive or change descriptor is not the group's`, { index });
  }
  const named = entry.signers.map((s) => s.publicKey);
  if (named.length !== publicKeys.length || new Set(named).size !== named.length || !named.every((k) => publicKeys.includes(k))) {
    throw refuse(`group ${index + 1}: its signer list is not the descriptor's keys`, { index });
  }
  const signerNames = entry.signers.flatMap((s) => (s.name === null ? [] : [{ publicKey: s.publicKey, name: s.name }]));
  return { group, signerNames };
}
