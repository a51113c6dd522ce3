/**
 * Reads back a group descriptor, the form `policyDescriptors(...).keyPath` writes:
 *
 *   tr(musig(A,B,C))#checksum                                         n-of-n
 *   tr(musig(A,B,C),{pk(musig(A,B)),{pk(musig(A,C)),pk(musig(B,C))}})#checksum      2-of-3
 *   ... with a last leaf and_v(v:pk(K),older(N)), K a key or musig(...)          recovery path
 *
 * Strict on purpose: a descriptor from another tool or edited by hand may describe coins the group
 * cannot spend the way the app thinks (leaves in another order change every address). So the text
 * is parsed into keys and a policy, the policy is checked (threshold-policy.ts), and our descriptor of
 * that group is written again: anything but the same string is refused. Only what we write is read.
 */
import { CosignerError } from '../errors.ts';
import { hasValidChecksum } from './descriptor.ts';
import { policyDescriptors } from './threshold-descriptor.ts';
import { GroupOutputs } from './threshold.ts';
import type { GroupPolicy } from './threshold-policy.ts';

/** The longest descriptor of an allowed policy is 17 902 characters (docs/GROUPS.md). */
export const MAX_DESCRIPTOR_LENGTH = 18_000;

export interface ReadDescriptor {
  /** Sorted, as written. */
  readonly publicKeys: readonly string[];
  readonly policy: GroupPolicy;
}

type Leaf =
  | { readonly kind: 'subset'; readonly keys: string[] }
  | { readonly kind: 'recovery'; readonly keys: string[]; readonly olderBlocks: number };

function refuse(message: string, context: Record<string, number | string> = {}): CosignerError {
  return new CosignerError('INVALID_INPUT', message, context);
}

class Cursor {
  at = 0;
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  eat(token: string): void {
    if (!this.text.startsWith(token, this.at))
      throw refuse(`unsupported descriptor: expected "${token}" at character ${this.at}`, { at: this.at });
    this.at += token.length;
  }
  next(token: string): boolean {
    return this.text.startsWith(token, this.at);
  }
  take(pattern: RegExp, what: string): string {
    const m = pattern.exec(this.text.slice(this.at));
    if (!m || m.index !== 0) throw refuse(`unsupported descriptor: expected ${what} at character ${this.at}`, { at: this.at });
    this.at += m[0].length;
    return m[0];
  }
}

const KEY = /^0[23][0-9a-f]{64}/;

function keyList(c: Cursor): string[] {
  c.eat('musig(');
  const keys = [c.take(KEY, 'a 33-byte key in lowercase hex')];
  while (c.next(',')) {
    c.eat(',');
    keys.push(c.take(KEY, 'a 33-byte key in lowercase hex'));
  }
  c.eat(')');
  return keys;
}

function leaf(c: Cursor, out: Leaf[]): void {
  if (c.next('{')) {
    c.eat('{');
    leaf(c, out);
    c.eat(',');
    leaf(c, out);
    c.eat('}');
  } else if (c.next('pk(')) {
    c.eat('pk(');
    out.push({ kind: 'subset', keys: keyList(c) });
    c.eat(')');
  } else {
    c.eat('and_v(v:pk(');
    const keys = c.next('musig(') ? keyList(c) : [c.take(KEY, 'a 33-byte key in lowercase hex')];
    c.eat('),older(');
    const olderBlocks = Number(c.take(/^[0-9]{1,10}/, 'a number of blocks'));
    c.eat('))');
    out.push({ kind: 'recovery', keys, olderBlocks });
  }
}

/** The keys and policy of a group descriptor; INVALID_INPUT, in words, for anything else. */
export function readGroupDescriptor(text: string): ReadDescriptor {
  const descriptor = text.trim();
  if (descriptor.length > MAX_DESCRIPTOR_LENGTH) throw refuse(`a group descriptor has at most ${MAX_DESCRIPTOR_LENGTH} characters`);
  if (!/#[a-z0-9]{8}$/.test(descriptor)) throw refuse('the descriptor has no checksum (#xxxxxxxx at its end): copy it whole');
  if (!hasValidChecksum(descriptor)) throw refuse('the descriptor’s checksum does not match: it was changed or mistyped');
  if (/[xt]pub/.test(descriptor)) {
    throw refuse(
      'this is a receive or change descriptor (with xpubs): import the group descriptor, tr(musig(<keys>)...), or the group file',
    );
  }
  const c = new Cursor(descriptor.slice(0, -9));
  c.eat('tr(');
  const publicKeys = keyList(c);
  const leaves: Leaf[] = [];
  if (c.next(',')) {
    c.eat(',');
    leaf(c, leaves);
  }
  c.eat(')');
  if (c.at !== c.text.length) throw refuse(`unsupported descriptor: unexpected text at character ${c.at}`, { at: c.at });

  const members = new Set(publicKeys);
  const subsets = leaves.filter((l) => l.kind === 'subset');
  if (subsets.some((l) => l.keys.some((k) => !members.has(k)))) {
    throw refuse('a leaf names a key that is not one of the group’s signers: not a group Cosigner can read');
  }
  const recoveries = leaves.filter((l) => l.kind === 'recovery');
  const recovery = recoveries[0];
  if (recoveries.length > 1 || (recovery !== undefined && leaves[leaves.length - 1] !== recovery)) {
    throw refuse('unsupported descriptor: at most one recovery leaf, the last one');
  }
  const k = subsets[0]?.keys.length;
  if (subsets.some((l) => l.keys.length !== k)) throw refuse('unsupported descriptor: leaves of different sizes are not a k-of-n group');
  const policy: GroupPolicy = {
    ...(k === undefined ? { kind: 'n-of-n' as const } : { kind: 'k-of-n' as const, k }),
    ...(recovery ? { recovery: { keys: recovery.keys, olderBlocks: recovery.olderBlocks } } : {}),
  };
  // Bounds, curve points and duplicates are checked here; then the one form we write must come back.
  const outputs = new GroupOutputs(publicKeys, policy);
  if (policyDescriptors(outputs, 'mainnet').keyPath !== descriptor) {
    throw refuse(
      'unsupported descriptor: not the form Cosigner writes for these keys (keys unsorted, leaves missing, in another order or another tree shape)',
    );
  }
  return Object.freeze({ publicKeys: Object.freeze(publicKeys), policy: outputs.policy });
}
