/**
 * BIP21 payment URIs (`bitcoin:<address>?amount=<BTC>&label=..&message=..`), as a payee's wallet
 * writes them into a QR code or a link, read into a recipient of the Send form. The address is
 * checked for the group's network; a `req-` parameter this reader does not know is refused, as
 * BIP21 requires (the payee made it a condition of the payment); other unknown ones are ignored.
 */
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { MAX_MONEY } from './psbt-import.ts';
import { recipientScript } from './send.ts';

export interface PaymentRequest {
  readonly address: string;
  /** Satoshis; null when the URI names no amount. */
  readonly amount: number | null;
  readonly label: string | null;
  readonly message: string | null;
}

/** Longer than any URI a QR code holds (2953 bytes at most). */
export const MAX_URI_CHARS = 4096;
const SCHEME = /^bitcoin:/i;
/** BIP21's amount: decimal bitcoin, a point as separator, at most 8 decimals, no exponent. */
const AMOUNT = /^(\d{1,8})(?:\.(\d{0,8}))?$/;

function refuse(why: string): CosignerError {
  return new CosignerError('INVALID_INPUT', `not a payment request this wallet can pay: ${why}`);
}

function decode(value: string, name: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, '%20'));
  } catch {
    throw refuse(`its ${name} is not valid percent-encoding`);
  }
}

/** Satoshis of a BIP21 amount, read as a decimal string (never through a float). */
export function btcToSats(text: string): number {
  const m = AMOUNT.exec(text);
  if (!m) throw refuse(`the amount "${text.slice(0, 40)}" is not a number of bitcoin like 0.0125`);
  const sats = BigInt(m[1]!) * 100_000_000n + BigInt((m[2] ?? '').padEnd(8, '0') || '0');
  if (sats === 0n || sats > MAX_MONEY) throw refuse('the amount is zero or more than 21 million bitcoin');
  return Number(sats);
}

/** A `bitcoin:` URI, or a bare address, for `network`. */
export function parsePaymentUri(text: string, network: BitcoinNetwork): PaymentRequest {
  const uri = text.trim();
  if (uri.length === 0 || uri.length > MAX_URI_CHARS)
    throw refuse(`expected a bitcoin: link or an address (up to ${MAX_URI_CHARS} characters)`);
  const bare = !SCHEME.test(uri);
  const body = bare ? uri : uri.replace(SCHEME, '');
  const q = body.indexOf('?');
  let address = q < 0 ? body : body.slice(0, q);
  // A QR code's alphanumeric mode writes bech32 in capitals; the address is the same in lower case.
  if (/^(BC|TB|BCRT)1[A-Z0-9]+$/.test(address)) address = address.toLowerCase();
  if (address.length === 0) throw refuse('it names no address');
  recipientScript(address, network);
  const found = { amount: null as number | null, label: null as string | null, message: null as string | null };
  const seen = new Set<string>();
  if (q >= 0 && !bare) {
    for (const pair of body.slice(q + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = (eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
      const value = eq < 0 ? '' : pair.slice(eq + 1);
      if (seen.has(name)) throw refuse(`it gives "${name}" twice`);
      seen.add(name);
      if (name === 'amount') found.amount = btcToSats(decode(value, name));
      else if (name === 'label' || name === 'message') found[name] = decode(value, name).slice(0, 500);
      else if (name.startsWith('req-')) throw refuse(`it requires "${name.slice(0, 40)}", which this wallet does not support`);
    }
  } else if (q >= 0) throw refuse('an address has no "?"');
  return { address, ...found };
}
