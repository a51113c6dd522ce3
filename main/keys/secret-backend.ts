/**
 * Where secrets are kept. keytar (upstream archived) is one implementation and the passphrase
 * file another; everything above this interface is backend-agnostic, so replacing keytar means
 * writing one new file that implements these three calls.
 *
 * Names are `<profile>/<slot>` strings chosen by the key manager. Values are opaque bytes; the
 * backend owns their encoding. A returned value is the caller's copy: the caller zeroizes it.
 */
export interface SecretBackend {
  /** A short label for messages and diagnostics, e.g. 'keychain' or 'file'. */
  readonly kind: string;
  /** The secret stored under `name`, or null when there is none. */
  get(name: string): Promise<Uint8Array | null>;
  /** Stores `value` under `name`, replacing any previous value. */
  set(name: string, value: Uint8Array): Promise<void>;
  /** Removes `name`; false when there was nothing to remove. */
  delete(name: string): Promise<boolean>;
}
