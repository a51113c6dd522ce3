/** The keys of a group being edited: chosen ones plus pasted ones, checked and without repeats. */
import { PublicKeyHex } from '../../../preload/contract.ts';
import { lines } from './format.ts';

export interface GroupKeys {
  keys: string[];
  /** Pasted lines that are not compressed public keys, as typed. */
  invalid: string[];
}

export function collectGroupKeys(chosen: Iterable<string>, pasted: string): GroupKeys {
  const keys = new Set<string>(chosen);
  const invalid: string[] = [];
  for (const line of lines(pasted.replace(/[,;]/g, '\n'))) {
    const key = line.toLowerCase();
    if (PublicKeyHex.safeParse(key).success) keys.add(key);
    else invalid.push(line);
  }
  return { keys: [...keys], invalid };
}
