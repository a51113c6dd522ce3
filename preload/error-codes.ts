/**
 * Every error `code` the back end sends (main/errors.ts throws them; WireError carries them). Stable:
 * the UI maps each to words, so a code is added here, never renamed. No Node or Electron API here.
 */
export const ERROR_CODES = [
  // input and encoding
  'INVALID_INPUT',
  'MALFORMED_MESSAGE',
  'OVERSIZED_MESSAGE',
  'UNSUPPORTED_VERSION',
  // MuSig2 engine
  'INVALID_PUBLIC_KEY',
  'INVALID_SECRET_KEY',
  'INVALID_TWEAK',
  'INVALID_PUBLIC_NONCE',
  'INVALID_PARTIAL_SIGNATURE',
  'NONCE_REUSED',
  'SIGNATURE_INVALID',
  // session protocol
  'BAD_SIGNATURE',
  'NOT_A_SIGNER',
  'WRONG_PEER',
  'UNKNOWN_GROUP',
  'DUPLICATE_SIGNER',
  'TOO_MANY_SIGNERS',
  'EXPIRED',
  'REPLAYED',
  'SEQUENCE_GAP',
  'TIMESTAMP_OUT_OF_WINDOW',
  'UNKNOWN_SESSION',
  'WRONG_PHASE',
  'EQUIVOCATION',
  'DECLINED',
  'ABORTED',
  'LIMIT_REACHED',
  'RATE_LIMITED',
  'NOT_APPROVED',
  'SESSION_STUCK',
  'STALE_ATTEMPT',
  'WRONG_PATH',
  // keys
  'KEYCHAIN_UNAVAILABLE',
  'KEYCHAIN_TIMEOUT',
  'KEY_NOT_FOUND',
  'KEY_EXISTS',
  'WRONG_PASSPHRASE',
  'CORRUPT_KEY_FILE',
  'INVALID_MNEMONIC',
  'CONFIRMATION_MISMATCH',
  'PASSPHRASE_REQUIRED',
  // contacts
  'SAFETY_CODE_REQUIRED',
  // bitcoin wallet (PSBT)
  'INVALID_PSBT',
  'PSBT_REFUSED',
  'PSBT_MISMATCH',
  // chain backend (main/chain/)
  'CHAIN_NOT_CONFIGURED',
  'CHAIN_UNAVAILABLE',
  'CHAIN_INVALID_RESPONSE',
  'BROADCAST_REJECTED',
  // building a spend (main/wallet/send.ts)
  'INSUFFICIENT_FUNDS',
  'DUST_OUTPUT',
  // the desktop app (updates, start at login)
  'UPDATES_OFF',
  'NO_UPDATE',
  'UPDATE_FAILED',
  'START_AT_LOGIN_UNAVAILABLE',
  // network and storage
  'PEER_UNREACHABLE',
  'NOT_RUNNING',
  'STORAGE_FAILED',
  'UNAUTHORIZED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
