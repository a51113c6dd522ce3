/**
 * The keystore: the signer key and the peer identity, in the OS keychain (keytar) or in a
 * passphrase-encrypted file. Secrets leave this module only as the backup words at creation
 * (PendingKey.words()), the signer handle (LocalSignerKey.secretKey()) and the libp2p key
 * (PeerIdentityHandle.privateKey()).
 */
export { openKeystore, keyFilePath, type KeystoreKind, type OpenKeystoreOptions } from './open-keystore.ts';
export { KeyManager, PendingKey, type KeyInfo, type KeyEvent, type KeyManagerOptions } from './key-manager.ts';
export { LocalSignerKey } from './local-signer-key.ts';
export { PeerIdentityHandle } from './peer-identity.ts';
export type { KeyOrigin } from './signer-record.ts';
export type { SecretBackend } from './secret-backend.ts';
export {
  KeytarSecretBackend,
  KEYCHAIN_SERVICE,
  DEFAULT_KEYCHAIN_TIMEOUT_MS,
  type KeytarApi,
  type KeytarBackendOptions,
} from './keytar-backend.ts';
export { FileSecretBackend, type FileBackendOptions } from './file-backend.ts';
export { DEFAULT_SCRYPT_PARAMS, type ScryptParams } from './key-file-format.ts';
export { readPassphrase, PASSPHRASE_ENV, type ReadPassphraseOptions } from './passphrase.ts';
export { classifyKeychainFailure, KEYCHAIN_HINTS, KEYCHAIN_TIMEOUT_HINT, type KeychainFailure } from './keychain-errors.ts';
export { fingerprintOf, publicKeyOf, SIGNER_KEY_TAG } from './key-derivation.ts';
