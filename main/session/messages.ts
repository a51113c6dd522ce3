/**
 * Session messages: signed by the sender's signer key over their whole canonical encoding, under the
 * "Cosigner/message" tag (docs/PROTOCOL.md §Session messages).
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import type { KeyVerifier } from '../musig/key-verifier.ts';
import { appendSignature, encodeMessageBody, type NonceEvidence, type SessionMessage } from './codec.ts';
import { messageDigest } from './hashes.ts';

export function signMessage(message: SessionMessage, secretKey: Uint8Array, auxRand: Uint8Array): Uint8Array {
  const signed = encodeMessageBody(message);
  return appendSignature(signed, schnorr.sign(messageDigest(signed), secretKey, auxRand));
}

/** BIP340 verification under the x-only form of the sender's 33-byte key (by `verifier`, which may
 *  hold the key's table, see main/musig/key-verifier.ts; else by noble's `schnorr.verify`). */
export function messageSignatureValid(signed: Uint8Array, signature: Uint8Array, senderKey: Uint8Array, verifier?: KeyVerifier): boolean {
  const digest = messageDigest(signed);
  const key = senderKey.subarray(1);
  return verifier ? verifier.verify(signature, digest, key) : schnorr.verify(signature, digest, key);
}

/**
 * Whether `evidence` is a NONCES message that `signerKey` really signed for this session, signer index
 * and attempt: the message is rebuilt from the evidence and its signature checked. This is how a node
 * tells a signer who sent different nonces to different peers from a peer who lies about it.
 */
export function nonceEvidenceValid(
  sessionId: Uint8Array,
  signerIndex: number,
  attempt: number,
  evidence: NonceEvidence,
  signerKey: Uint8Array,
  verifier?: KeyVerifier,
): boolean {
  const rebuilt: SessionMessage = {
    sessionId,
    sender: signerIndex,
    attempt,
    sequence: evidence.sequence,
    timestamp: evidence.timestamp,
    body: { type: 'nonces', nonces: evidence.nonces },
  };
  let signed: Uint8Array;
  try {
    signed = encodeMessageBody(rebuilt);
  } catch {
    return false;
  }
  return messageSignatureValid(signed, evidence.signature, signerKey, verifier);
}
