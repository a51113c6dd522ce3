import type { Contact, Group, SessionSnapshot } from '../../preload/contract.ts';
import { showUntrustedText } from '../../preload/untrusted-text.ts';

/** Longest description a notification quotes: the review screen shows it whole. */
export const NOTICE_DESCRIPTION_CHARS = 120;

/**
 * The words of a "sign this?" notification: who asks, by the name this user gave them after
 * checking their safety code (their contact), and for which group. Both come from this node's own
 * books, never from the request: a request names neither its sender's name nor a group, so a
 * notification cannot be made to show a trusted name. A sender not in the contacts is said to be
 * unknown, with their key's start.
 */
export function requestNotice(
  snapshot: SessionSnapshot,
  contacts: readonly Contact[],
  groups: readonly Group[],
): { title: string; body: string } {
  const contact = contacts.find((c) => c.publicKey === snapshot.creator);
  const who = contact ? showUntrustedText(contact.name) : `an unknown co-signer (${snapshot.creator.slice(0, 16)}…)`;
  const group = groupOf(snapshot, groups);
  const where = group ? `group “${showUntrustedText(group.name)}”` : 'a group you do not have';
  const description = showUntrustedText(snapshot.description).slice(0, NOTICE_DESCRIPTION_CHARS);
  return {
    title: `Signing request from ${who}`,
    body: `For the ${where}${description ? `: ${description}` : '.'}`,
  };
}

/** The group whose keys are exactly the session's signers. */
function groupOf(snapshot: SessionSnapshot, groups: readonly Group[]): Group | undefined {
  const signers = snapshot.signers.map((s) => s.publicKey).sort();
  return groups.find((g) => {
    const keys = [...g.publicKeys].sort();
    return keys.length === signers.length && keys.every((k, i) => k === signers[i]);
  });
}
