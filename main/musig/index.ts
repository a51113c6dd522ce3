/**
 * The MuSig2 (BIP327) engine: the contract between the engine and the coordinator is
 * notes/musig-api.md. Secret nonces never leave memory; everything else here is public data.
 */
export { SigningBatch } from './batch.ts';
export { aggregateKeys, withTaprootTweak, withTweaks, type KeyAggContext, type Tweak } from './key-agg.ts';
export { publicKeyOf, sortKeys } from './keys.ts';
export { aggregateNonces, discardSecretNonce, generateNonce, isValidPublicNonce, type NonceGenInput, type SecretNonce } from './nonce.ts';
export { verifySignature } from './verify.ts';
export { KeyVerifier } from './key-verifier.ts';
