/**
 * The back end's half of the LAN safety code: a key seen on the LAN is saved as a contact only with
 * the safety code the user compared with its owner (preload/safety-code.ts). The UI asks for the
 * comparison; this check makes sure no path skips it (the LAN list's button, or the key copied from
 * that list into the manual form, or a script).
 */
import { safetyCode } from '../../preload/safety-code.ts';
import { CosignerError } from '../errors.ts';

export interface LanContactCheck {
  /** This signer's public key; null when there is none (then nothing is found on the LAN either). */
  ownKey: string | null;
  publicKey: string;
  /** Signer keys of the cards seen on the LAN right now. */
  lanKeys: readonly string[];
  /** Already a contact: saving again renames it, and trusts no new key. */
  alreadySaved: boolean;
  /** The code the user confirmed matched on both screens. */
  confirmedCode: string | undefined;
}

/** Throws SAFETY_CODE_REQUIRED when a key found on the LAN would become a contact without its code. */
export function checkLanContact({ ownKey, publicKey, lanKeys, alreadySaved, confirmedCode }: LanContactCheck): void {
  if (alreadySaved || ownKey === null || !lanKeys.includes(publicKey)) return;
  const expected = safetyCode(ownKey, publicKey);
  if (confirmedCode === undefined) {
    throw new CosignerError('SAFETY_CODE_REQUIRED', 'a co-signer found on the LAN is saved only after comparing the safety code', {
      publicKey,
      reason: 'missing',
    });
  }
  if (confirmedCode !== expected) {
    throw new CosignerError('SAFETY_CODE_REQUIRED', 'the confirmed safety code is not the one of these two keys', {
      publicKey,
      reason: 'mismatch',
    });
  }
}
