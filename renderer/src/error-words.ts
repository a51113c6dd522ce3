/**
 * Every error the back end can send, in words a co-signer understands. The code is stable
 * (main/errors.ts ERROR_CODES); the back end's own message is for developers and is shown only as
 * a detail under these words.
 */
import { BridgeError } from '../../preload/contract-kit.ts';
import { PsbtRefusalCode } from '../../preload/contract.ts';
import { refusalWords } from './lib/psbt.ts';

const WORDS: Readonly<Record<string, string>> = {
  INVALID_INPUT: 'Something you entered is not valid. Check the fields and try again.',
  MALFORMED_MESSAGE: 'A message from a co-signer could not be read. It was ignored.',
  OVERSIZED_MESSAGE: 'A message was too large to accept.',
  UNSUPPORTED_VERSION: 'A co-signer uses a version of Cosigner that this one cannot talk to. One of you should update.',
  INVALID_PUBLIC_KEY: 'That is not a valid public key: it is 66 hex characters starting with 02 or 03, and not every such text is a key.',
  INVALID_SECRET_KEY: 'That is not a valid secret key. It must be 64 hex characters.',
  INVALID_TWEAK: 'The key could not be tweaked for a taproot address.',
  INVALID_PUBLIC_NONCE: 'A co-signer sent an invalid nonce, so the signing stopped.',
  INVALID_PARTIAL_SIGNATURE: 'A co-signer sent an invalid partial signature, so the signing stopped.',
  NONCE_REUSED: 'Cosigner refused to reuse a nonce, which could reveal your key. Nothing was signed.',
  SIGNATURE_INVALID: 'The final signature did not verify, so it was not accepted.',
  BAD_SIGNATURE: 'A message was not correctly signed by its sender and was ignored.',
  NOT_A_SIGNER: 'This key is not one of the signers of that request.',
  WRONG_PEER: 'A message came from a computer that is not bound to its signer key and was ignored.',
  UNKNOWN_GROUP: 'A request came for signers that are not one of your saved groups and was ignored.',
  WRONG_PATH:
    "A request named a way of spending that is not your saved group's, or asked for signers who are not the ones that path needs. It was refused.",
  DUPLICATE_SIGNER:
    'The same signer appears twice: a key is listed twice, or once with 02 and once with 03 in front of the same 64 characters (one signer for Bitcoin). Each signer must be listed once.',
  TOO_MANY_SIGNERS: 'Too many signers: a group can have at most 16.',
  EXPIRED: 'This request has expired.',
  REPLAYED: 'A message was received twice and the copy was ignored.',
  SEQUENCE_GAP: 'Some messages from a co-signer are missing.',
  TIMESTAMP_OUT_OF_WINDOW: "A co-signer's clock is too far from yours. Check that both computers have the right time.",
  UNKNOWN_SESSION: 'This request is not known to Cosigner (it may have been removed).',
  WRONG_PHASE: 'This request has already moved on; the screen will show its current state.',
  EQUIVOCATION: 'A co-signer sent two different answers for the same step, so the signing stopped.',
  DECLINED: 'A co-signer declined the request.',
  ABORTED: 'The signing was stopped.',
  LIMIT_REACHED: 'Cosigner is holding as many requests as it can. Let some finish or expire, then try again.',
  RATE_LIMITED: 'Too many requests at once. Wait a moment and try again.',
  NOT_APPROVED: 'Nothing can be signed until you approve the request.',
  SESSION_STUCK: 'The signing made no progress for too long (a co-signer stopped answering), so it was stopped.',
  CHAIN_NOT_CONFIGURED:
    "No chain server is set for this network. Add your Esplora or Electrum server in Settings to see the group's coins.",
  CHAIN_UNAVAILABLE: 'The chain server could not be reached or failed. The last known state is shown; try again later.',
  CHAIN_INVALID_RESPONSE:
    'The chain server sent an answer that is malformed or contradicts the transactions themselves, so it was not used.',
  BROADCAST_REJECTED: 'The network refused the transaction. Nothing was spent; the reason is below.',
  INSUFFICIENT_FUNDS: "The group's spendable coins do not cover the amount and the fee.",
  DUST_OUTPUT: 'That amount is too small: the network does not relay a payment that small to that address.',
  STALE_ATTEMPT: 'A message belonged to an earlier attempt of this signing and was ignored.',
  INVALID_PSBT: 'That transaction (PSBT) cannot be read. Check that you pasted or chose the whole PSBT your wallet made.',
  PSBT_REFUSED: 'Cosigner will not sign that transaction (PSBT): this group cannot sign every input. Review it to see which and why.',
  PSBT_MISMATCH: 'The transaction (PSBT) does not match what was reviewed and approved, so nothing was signed.',
  KEYCHAIN_UNAVAILABLE: 'The system keychain cannot be used.',
  KEYCHAIN_TIMEOUT:
    'The system keychain did not answer. If it asks for your password, unlock it and try again; on Linux, check that its Secret Service (gnome-keyring or KeePassXC) is running.',
  KEY_NOT_FOUND: 'There is no signer key on this computer yet.',
  KEY_EXISTS: 'A signer key already exists on this computer. Delete it first if you really mean to replace it.',
  WRONG_PASSPHRASE: 'The passphrase is wrong.',
  CORRUPT_KEY_FILE: 'The key file is damaged and cannot be read. Restore your key from its backup words.',
  INVALID_MNEMONIC: 'Those backup words are not a valid phrase. Check the spelling and order of every word.',
  CONFIRMATION_MISMATCH: 'What you typed does not match.',
  PASSPHRASE_REQUIRED: 'A passphrase is needed to unlock the key file.',
  SAFETY_CODE_REQUIRED:
    'This co-signer was found on your network: compare the safety code with its owner (both screens must show the same digits) before saving it.',
  PEER_UNREACHABLE: 'A co-signer could not be reached. They may be offline or their network may block the connection.',
  UPDATES_OFF: 'Updates are off here: this copy of Cosigner is updated the way it was installed.',
  NO_UPDATE: 'There is no downloaded release to install. Check for updates first.',
  UPDATE_FAILED: 'The update could not be installed; this version keeps running. Download it again, or install it from the release page.',
  START_AT_LOGIN_UNAVAILABLE: 'Starting at login is only available in the desktop app.',
  NOT_RUNNING: 'Not connected to Cosigner. It may be starting or stopped; this screen reconnects by itself.',
  STORAGE_FAILED: 'Cosigner could not save to disk. Check free space and permissions of its data folder.',
  UNAUTHORIZED: 'This page is not allowed to control Cosigner. Open the link Cosigner printed at start.',
  INTERNAL: 'Something went wrong inside Cosigner. Try again; if it keeps happening, restart it.',
};

const FALLBACK = 'Something went wrong. Try again.';

export interface ErrorView {
  /** Plain words for the user. */
  words: string;
  /** The stable code, for support. */
  code: string;
  /** The back end's own message, shown small. */
  detail: string;
}

/** What to tell the user about a thrown value. */
export function describeError(error: unknown): ErrorView {
  if (error instanceof BridgeError) {
    return { words: wordsFor(error.code, error.context), code: error.code, detail: error.message };
  }
  const detail = error instanceof Error ? error.message : String(error);
  return { words: FALLBACK, code: 'UNKNOWN', detail };
}

/** Words for a code alone (a session's failure code, a key status problem). */
export function wordsFor(code: string, context?: Record<string, unknown> | undefined): string {
  const base = WORDS[code] ?? FALLBACK;
  const hint = context?.['hint'];
  if (code === 'KEYCHAIN_UNAVAILABLE' && typeof hint === 'string') return `${base} ${hint}`;
  const position = context?.['position'];
  if (code === 'CONFIRMATION_MISMATCH' && context?.['what'] === 'backup-words' && typeof position === 'number') {
    return `Word ${position} does not match your backup. Check it and try again.`;
  }
  if (code === 'PSBT_REFUSED') return psbtRefusedWords(context) ?? base;
  if (code === 'INVALID_INPUT' || code === 'INVALID_PARTIAL_SIGNATURE') return psbtSignatureWords(code, context) ?? base;
  return base;
}

/** A PSBT finalized from its own BIP373 signatures (psbt.complete): the back end names the input and the signer's key. */
function psbtSignatureWords(code: string, context: Record<string, unknown> | undefined): string | undefined {
  const { input, signer } = context ?? {};
  if (typeof input !== 'number' || typeof signer !== 'string') return undefined;
  const key = `${signer.slice(0, 8)}…${signer.slice(-4)}`;
  return code === 'INVALID_INPUT'
    ? `This PSBT is not signed by every co-signer yet: input ${input} has no MuSig2 nonce or partial signature from the key ${key}. Finish the signing in the other tool, or send a request instead.`
    : `The partial signature of the key ${key} on input ${input} is not valid, so the transaction cannot be finalized. Ask that co-signer to sign again.`;
}

/** A refused PSBT: how many inputs, and why the first is refused (its code from the back end's context). */
function psbtRefusedWords(context: Record<string, unknown> | undefined): string | undefined {
  if (typeof context?.['network'] === 'string') {
    return `Cosigner will not sign that transaction: it is for ${context['network']}, and this computer is set to another network.`;
  }
  const refusal = PsbtRefusalCode.safeParse(context?.['code']);
  const { input, refused, inputs } = context ?? {};
  if (!refusal.success || typeof input !== 'number' || typeof refused !== 'number' || typeof inputs !== 'number') return undefined;
  const count = `${refused} of ${inputs} ${inputs === 1 ? 'input' : 'inputs'}`;
  return `Cosigner will not sign that transaction: ${count} cannot be signed by this group, so nothing is signed. Input ${input}: ${refusalWords(refusal.data)}`;
}
