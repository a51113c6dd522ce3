/**
 * The MuSig2 (BIP327) engine, as the coordinator uses it (through session/session-crypto.ts): what
 * is exported here is its whole API. Secret nonces are single-use handles that never leave memory
 * (docs/PROTOCOL.md, "Nonces, restarts and recovery"); everything else here is public data.
 */
export { SigningBatch } from './batch.ts';
export { aggregateKeys, withTaprootTweak, withTweaks, type KeyAggContext, type Tweak } from './key-agg.ts';
export { publicKeyOf, sortKeys } from './keys.ts';
export { aggregateNonces, discardSecretNonce, generateNonce, isValidPublicNonce, type NonceGenInput, type SecretNonce } from './nonce.ts';
export { verifySignature } from './verify.ts';
export { KeyVerifier } from './key-verifier.ts';
