import type { SpendPathInput } from '../../../preload/contract.ts';

/**
 * A PSBT built on the Wallet screen's Send form, handed to the New request screen (which reviews it
 * and sends it to the co-signers as any PSBT). Held in memory only, for one screen change: a PSBT
 * is too large for the URL, and taking it clears it. It goes with the path it was built for: its
 * inputs' fields are that path's, so it must be requested over the same one.
 */
export interface Draft {
  psbtBase64: string;
  /** Absent: the key path. */
  path?: SpendPathInput | undefined;
}

let draft: (Draft & { groupId: string }) | null = null;

export function handOver(groupId: string, psbtBase64: string, path?: SpendPathInput): void {
  draft = { groupId, psbtBase64, path };
}

/** The PSBT handed over for this group, once. */
export function takeDraft(groupId: string | undefined): Draft | null {
  const taken = draft !== null && draft.groupId === groupId ? { psbtBase64: draft.psbtBase64, path: draft.path } : null;
  draft = null;
  return taken;
}

const BTC = /^(\d{1,8})(?:\.(\d{0,8}))?$/;

/** Satoshis of an amount typed in bitcoin ("0.0125"), read as decimal text; null when it is not one. */
export function btcTextToSats(text: string): number | null {
  const m = BTC.exec(text.trim());
  if (!m) return null;
  const sats = Number(m[1]) * 100_000_000 + Number((m[2] ?? '').padEnd(8, '0') || '0');
  return sats > 0 && sats <= 2_100_000_000_000_000 ? sats : null;
}

/** An amount in satoshis as bitcoin text the amount field reads back ("0.00125", no grouping). */
export function satsToBtcText(sats: number): string {
  const fraction = String(sats % 100_000_000)
    .padStart(8, '0')
    .replace(/0+$/, '');
  return `${Math.floor(sats / 100_000_000)}${fraction ? `.${fraction}` : ''}`;
}
