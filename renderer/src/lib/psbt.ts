/**
 * What a PSBT review means to a signer: amounts in bitcoin from integer satoshis (never through
 * floating-point bitcoin), refusals and warnings in words, where the money goes, and reading a
 * PSBT from pasted text or a file.
 */
import { base64 } from '@scure/base';
import type { PsbtReview } from '../../../preload/contract.ts';

type RefusalCode = NonNullable<PsbtReview['inputs'][number]['refusal']>['code'];
type Warning = PsbtReview['warnings'][number];

const SATS_PER_BTC = 100_000_000;

/** `1234567` → `"1,234,567"`: digits grouped by three, whatever the locale, so amounts read alike everywhere. */
function groupDigits(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Satoshis as bitcoin with all 8 decimals: `5_000_000` → `"0.05000000"`. Exact: a contract amount
 * is an integer below 2^53, so the quotient and remainder below are exact integers.
 */
export function formatBtc(sats: number): string {
  if (!Number.isSafeInteger(sats) || sats < 0) throw new RangeError(`not an amount of satoshis: ${sats}`);
  const whole = Math.floor(sats / SATS_PER_BTC);
  const fraction = sats % SATS_PER_BTC;
  return `${groupDigits(String(whole))}.${String(fraction).padStart(8, '0')}`;
}

/** `"1,234,567 sat"`. */
export function formatSats(sats: number): string {
  if (!Number.isSafeInteger(sats) || sats < 0) throw new RangeError(`not an amount of satoshis: ${sats}`);
  return `${groupDigits(String(sats))} sat`;
}

/** A fee rate in sat/vB with the two decimals the back end rounds it to. */
export function formatFeeRate(feeRate: number): string {
  return `${feeRate.toFixed(2)} sat/vB`;
}

/** `abcdef12…:0` style outpoint, short enough for a table row. */
export function shortOutpoint(txid: string, vout: number): string {
  return `${txid.slice(0, 8)}…${txid.slice(-8)}:${vout}`;
}

const REFUSALS: Readonly<Record<RefusalCode, string>> = {
  'already-finalized': 'This input is already signed and finalized: there is nothing left for the group to sign.',
  'missing-utxo': 'The PSBT does not say which coin this input spends (its amount and script), so what would be signed cannot be checked.',
  'invalid-amount': 'The amount this input claims to spend is impossible (more than 21 million bitcoin).',
  'not-taproot': 'This input does not spend a taproot coin; the group can only spend taproot coins.',
  'not-ours': "This input spends a coin that does not belong to this group: the group's key cannot spend it.",
  'inconsistent-metadata': 'The PSBT contradicts itself about this input: the key it names is not the one behind the coin.',
  'script-path': 'This input asks for a script-path spend; the group only signs with its key path.',
  'invalid-sighash': 'This input asks for a signature type (sighash) that is not valid for taproot.',
  'sighash-not-allowed':
    'This input asks for a signature type (sighash) other than the default. It is refused unless both the request and your settings allow it.',
  'foreign-musig-fields': 'This input already carries MuSig2 data from another signing; the group will not sign over it.',
  'foreign-leaf': "This input names a script (a leaf) that is not one of the group's: the group will not sign for it.",
  'wrong-control-block': "This input's proof that its script belongs to the coin (the control block) is not the group's.",
  'timelock-not-met':
    'The recovery path is locked until enough blocks have passed: this input does not wait (its sequence) as long as the recovery script requires.',
};

/** Why an input cannot be signed, in words. */
export function refusalWords(code: RefusalCode): string {
  return REFUSALS[code];
}

export function isDefaultSighash(sighash: string): boolean {
  return sighash === 'DEFAULT';
}

/** A review's warning in words, with the review's numbers. */
export function warningWords(warning: Warning, review: PsbtReview): string {
  if (warning === 'high-fee') {
    const fee = review.fee === null ? 'The fee' : `The fee of ${formatBtc(review.fee)} BTC`;
    const rate = review.feeRate === null ? '' : ` (${formatFeeRate(review.feeRate)})`;
    return `${fee}${rate} is unusually high: it is more than 1000 sat/vB or more than what is sent to others. Check it is what you mean to pay.`;
  }
  return 'Some inputs ask for a signature type (sighash) other than the default. Such a signature does not cover the whole transaction: others could change parts of it after you sign.';
}

export interface ReviewSummary {
  /** Outputs paying someone else. */
  recipients: PsbtReview['outputs'];
  /** Outputs to the group's change branch (1/i): the only ones called change. */
  change: PsbtReview['outputs'];
  changeTotal: number;
  /** Outputs that pay the group without being change (its own address, a receive address, another path). */
  toGroup: PsbtReview['outputs'];
  toGroupTotal: number;
  refusedInputs: PsbtReview['inputs'];
}

const sum = (outputs: PsbtReview['outputs']) => outputs.reduce((total, o) => total + o.amount, 0);

/** Where the money goes: to others, back to the group as change, or to the group otherwise. */
export function reviewSummary(review: PsbtReview): ReviewSummary {
  const change = review.outputs.filter((o) => o.isChange);
  const toGroup = review.outputs.filter((o) => !o.isChange && o.changePath !== null);
  return {
    recipients: review.outputs.filter((o) => o.changePath === null),
    change,
    changeTotal: sum(change),
    toGroup,
    toGroupTotal: sum(toGroup),
    refusedInputs: review.inputs.filter((i) => i.refusal !== null),
  };
}

/**
 * How an output that pays the group is named: "change" only on the change branch (the back end's
 * isChange); a receive address (0/i) or any other path is the group's money but not change, which a
 * wallet watching the group's descriptors may not see. Null for an output paying someone else.
 */
export function groupOutputWords(output: PsbtReview['outputs'][number]): string | null {
  if (output.changePath === null) return null;
  if (output.isChange) return 'change (back to this group)';
  if (output.changePath.length === 2 && output.changePath[0] === 0) return 'to the group (receive address), not change';
  return 'to the group, not change';
}

/** The bytes every PSBT starts with: "psbt" and 0xff (BIP174). */
const MAGIC = [0x70, 0x73, 0x62, 0x74, 0xff];

/**
 * A PSBT file's content as the text `psbt.review` takes: a binary PSBT becomes base64; a text file
 * (base64 or hex, as most wallets save them) is returned as its text, trimmed.
 */
export function psbtTextFromFile(bytes: Uint8Array): string {
  if (MAGIC.every((b, i) => bytes[i] === b)) return base64.encode(bytes);
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes).trim();
}

/** A base64 PSBT as the bytes of a `.psbt` file. */
export function psbtFileBytes(psbtBase64: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(base64.decode(psbtBase64));
}

/**
 * A QR code (version 40, error correction M, byte mode, as QrCode.svelte draws them) holds at most
 * 2331 bytes; longer text gets no QR code.
 */
export const QR_MAX_BYTES = 2331;

export function fitsInQr(text: string): boolean {
  return new TextEncoder().encode(text).length <= QR_MAX_BYTES;
}
