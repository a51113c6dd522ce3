import { CosignerError } from '../errors.ts';

// A profile name becomes a keychain account prefix and a file name: no separators, no leading
// dot (the keychain backend's probe account starts with one), short.
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function assertProfileName(profile: string): void {
  if (!PROFILE_NAME.test(profile)) {
    throw new CosignerError(
      'INVALID_INPUT',
      'a profile name is 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
      {
        field: 'profile',
      },
    );
  }
}

export type SecretSlot = 'signer-key' | 'peer-identity';

/** The backend name of a profile's secret, e.g. `default/signer-key`. */
export function secretName(profile: string, slot: SecretSlot): string {
  return `${profile}/${slot}`;
}
