/**
 * Checks a message session's signatures with code that is not ours: bip322-js verifies each BIP322
 * signature for the group's address (mainnet, written by bitcoinjs-lib from the output key), and each
 * 64-byte signature must be the one inside that BIP322 witness.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import { Verifier } from 'bip322-js';
import * as bitcoin from 'bitcoinjs-lib';

/** The shape both the coordinator's and the contract's snapshots have. */
interface MessageResult {
  messages: readonly { hex: string }[];
  signatures: readonly string[];
  bip322?: { signatures: readonly string[] } | null;
}

/** The group's mainnet P2TR address, by bitcoinjs-lib. */
export function mainnetAddress(outputKey: Uint8Array): string {
  return bitcoin.address.toBech32(outputKey, 1, 'bc');
}

/** Whether every message of `s` carries a BIP322 signature bip322-js accepts for `outputKey`'s
 *  address, wrapping exactly the 64-byte signature the snapshot gives for it. */
export function verifiesAsBip322(s: MessageResult, outputKey: Uint8Array): boolean {
  const address = mainnetAddress(outputKey);
  const bip322 = s.bip322?.signatures ?? [];
  return (
    s.messages.length > 0 &&
    bip322.length === s.messages.length &&
    s.signatures.length === s.messages.length &&
    s.messages.every((m, i) => {
      const witness = Buffer.from(bip322[i] as string, 'base64');
      return (
        witness.toString('hex') === `0140${s.signatures[i]}` &&
        Verifier.verifySignature(address, Buffer.from(hexToBytes(m.hex)), bip322[i] as string)
      );
    })
  );
}
