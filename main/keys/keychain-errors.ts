import { CosignerError } from '../errors.ts';

/**
 * Why the OS keychain could not be used, read from the native error text. keytar only surfaces
 * strings (from libsecret/GLib, Security.framework or the Windows credential API), so the text is
 * all there is to go on; anything unrecognised is 'unknown' and still gets a usable hint.
 */
export type KeychainFailure = 'module-missing' | 'no-session-bus' | 'no-secret-service' | 'locked' | 'refused' | 'unknown';

// Order matters: "User interaction is not allowed" (macOS, keychain locked with no UI) must be read
// as locked before the generic refusal patterns see "not allowed".
const PATTERNS: readonly (readonly [KeychainFailure, RegExp])[] = [
  ['no-session-bus', /autolaunch D-Bus|DBUS_SESSION_BUS_ADDRESS|Could not connect|Failed to connect to socket|Connection refused/i],
  [
    'no-secret-service',
    /org\.freedesktop\.secrets|not provided by any \.service files|ServiceUnknown|Object does not exist at path|No such interface/i,
  ],
  ['locked', /locked|User interaction is not allowed|-25308|not unlocked/i],
  ['refused', /cancel|dismiss|denied|refused|not authori[sz]ed|-128\b/i],
];

export function classifyKeychainFailure(nativeMessage: string): KeychainFailure {
  for (const [failure, pattern] of PATTERNS) if (pattern.test(nativeMessage)) return failure;
  return 'unknown';
}

const FALLBACK = 'On a server or a machine without a keychain, use the encrypted key file instead (--keystore file).';

/** What the user can do about it: shown as is by the UI and the CLI. */
export const KEYCHAIN_HINTS: Readonly<Record<KeychainFailure, string>> = {
  'module-missing': `The keychain module (keytar) could not be loaded: its native part is missing or was built for another runtime. Reinstall Cosigner. ${FALLBACK}`,
  'no-session-bus': `There is no D-Bus session, so the Secret Service keychain cannot be reached. Start Cosigner from your desktop session (not over plain SSH or from a system service). ${FALLBACK}`,
  'no-secret-service': `No Secret Service keyring is available. Install and start gnome-keyring (or KeePassXC with its Secret Service integration) and make sure a default keyring exists. ${FALLBACK}`,
  locked:
    'The keychain is locked. Unlock it (log in to your desktop session, or unlock the keyring in your keychain manager) and try again.',
  refused: 'Access to the keychain was refused. Try again and allow Cosigner when the keychain asks for permission.',
  unknown: `The OS keychain reported an error. Check that it is running and unlocked, then try again. ${FALLBACK}`,
};

const SUMMARY: Readonly<Record<KeychainFailure, string>> = {
  'module-missing': 'the keychain module could not be loaded',
  'no-session-bus': 'no D-Bus session bus',
  'no-secret-service': 'no Secret Service keyring',
  locked: 'the keychain is locked',
  refused: 'access to the keychain was refused',
  unknown: 'the keychain reported an error',
};

/**
 * The typed error for a keychain failure. The native text goes into `context.detail` (truncated)
 * for support; it names services and accounts at most, never a stored value, since keytar never
 * echoes passwords. `reason` is forced where the caller knows better than the text (a failed load).
 */
export function keychainUnavailable(operation: string, cause: unknown, reason?: KeychainFailure): CosignerError {
  const detail = (cause instanceof Error ? cause.message : String(cause)).slice(0, 300);
  const failure = reason ?? classifyKeychainFailure(detail);
  return new CosignerError(
    'KEYCHAIN_UNAVAILABLE',
    `OS keychain unavailable: ${SUMMARY[failure]}`,
    { reason: failure, hint: KEYCHAIN_HINTS[failure], operation, detail },
    { cause },
  );
}

/** What the user can do when the keychain does not answer: shown as is by the UI and the CLI. */
export const KEYCHAIN_TIMEOUT_HINT = `The keychain did not answer. If it is asking for your password, unlock it and try again. On Linux, check that the Secret Service (gnome-keyring, or KeePassXC with its Secret Service integration) is running and responding. ${FALLBACK}`;

/**
 * The typed error for a keychain call that did not settle in time. `earlierPending` marks a call
 * refused without being made because an earlier, timed-out one has still not come back.
 */
export function keychainTimeout(operation: string, timeoutMs: number, earlierPending = false): CosignerError {
  const message = earlierPending
    ? 'OS keychain did not answer: an earlier request is still waiting for it'
    : `OS keychain did not answer within ${timeoutMs / 1000} s`;
  return new CosignerError('KEYCHAIN_TIMEOUT', message, {
    hint: KEYCHAIN_TIMEOUT_HINT,
    operation,
    timeoutMs,
    earlierPending,
  });
}
