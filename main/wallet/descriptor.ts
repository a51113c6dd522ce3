/**
 * Output script descriptors of a group, to import it into Bitcoin Core or another watch-only wallet:
 * the BIP380 checksum and the BIP390 `tr(musig(...))` forms.
 *
 * BIP390 sorts the keys inside musig() before aggregating (its vector tr(musig(02f9…,03df…,0235…))
 * gives 5120 79e6…, the sorted aggregate); a group's keys are stored sorted, so written in that order
 * the descriptor reads the same as the aggregate it describes.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { sortKeys, type KeyAggContext } from '../musig/index.ts';
import { CHANGE_BRANCH, RECEIVE_BRANCH, syntheticXpub } from './bip328.ts';

const INPUT_CHARSET = '0123456789()[],\'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#"\\ ';
const CHECKSUM_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];

function polymod(symbols: readonly number[]): bigint {
  let chk = 1n;
  for (const value of symbols) {
    const top = chk >> 35n;
    chk = ((chk & 0x7ffffffffn) << 5n) ^ BigInt(value);
    for (let i = 0; i < 5; i++) if ((top >> BigInt(i)) & 1n) chk ^= GENERATOR[i] as bigint;
  }
  return chk;
}

function expand(body: string): number[] {
  const symbols: number[] = [];
  const groups: number[] = [];
  for (const c of body) {
    const v = INPUT_CHARSET.indexOf(c);
    if (v < 0) throw new CosignerError('INVALID_INPUT', 'character outside the descriptor character set');
    symbols.push(v & 31);
    groups.push(v >> 5);
    if (groups.length === 3) {
      symbols.push((groups[0] as number) * 9 + (groups[1] as number) * 3 + (groups[2] as number));
      groups.length = 0;
    }
  }
  if (groups.length === 1) symbols.push(groups[0] as number);
  else if (groups.length === 2) symbols.push((groups[0] as number) * 3 + (groups[1] as number));
  return symbols;
}

/** The 8-character BIP380 checksum of a descriptor body (the part before '#'). */
export function descriptorChecksum(body: string): string {
  const checksum = polymod([...expand(body), 0, 0, 0, 0, 0, 0, 0, 0]) ^ 1n;
  let out = '';
  for (let i = 0; i < 8; i++) out += CHECKSUM_CHARSET[Number((checksum >> BigInt(5 * (7 - i))) & 31n)];
  return out;
}

export function withChecksum(body: string): string {
  return `${body}#${descriptorChecksum(body)}`;
}

/** Whether `descriptor` is BODY#CHECKSUM with a correct checksum (BIP380 descsum_check). */
export function hasValidChecksum(descriptor: string): boolean {
  const at = descriptor.length - 9;
  if (at < 0 || descriptor[at] !== '#') return false;
  const checksum = descriptor.slice(at + 1);
  if (![...checksum].every((c) => CHECKSUM_CHARSET.includes(c))) return false;
  try {
    return descriptorChecksum(descriptor.slice(0, at)) === checksum;
  } catch {
    return false;
  }
}

export interface GroupDescriptors {
  /** `tr(musig(K1,...,Kn))`: the group's own address (key path only). */
  readonly keyPath: string;
  /** `tr(musig(X1,...,Xn)/0/*)`: BIP328 receive addresses. */
  readonly receive: string;
  /** `tr(musig(X1,...,Xn)/1/*)`: BIP328 change addresses (import with "internal": true). */
  readonly change: string;
}

/**
 * The group's descriptors, each with its checksum. BIP390 allows derivation after musig() only when
 * every participant is an xpub; our signers' keys have no chain code, so each is written as a
 * depth-0 xpub with the BIP328 chain code and nothing derived below it: the key used is exactly the
 * signer's key, and the aggregate is the group's.
 */
export function groupDescriptors(group: KeyAggContext, network: BitcoinNetwork): GroupDescriptors {
  if (group.tweaks.length !== 0) throw new CosignerError('INVALID_INPUT', 'a descriptor describes the untweaked group aggregate');
  const sorted = sortKeys(group.publicKeys);
  if (sorted.some((key, i) => bytesToHex(key) !== bytesToHex(group.publicKeys[i] as Uint8Array))) {
    throw new CosignerError('INVALID_INPUT', 'musig() sorts its keys: the group aggregate must be of sorted keys');
  }
  const hexKeys = group.publicKeys.map((key) => bytesToHex(key)).join(',');
  const xpubs = group.publicKeys.map((key) => syntheticXpub(key, network)).join(',');
  return Object.freeze({
    keyPath: withChecksum(`tr(musig(${hexKeys}))`),
    receive: withChecksum(`tr(musig(${xpubs})/${RECEIVE_BRANCH}/*)`),
    change: withChecksum(`tr(musig(${xpubs})/${CHANGE_BRANCH}/*)`),
  });
}
