import { base64 } from '@scure/base';
import { Transaction } from '@scure/btc-signer';
import { describe, expect, it } from 'vitest';
import { finalizeKeyPath } from '../../../main/wallet/psbt-finalize.ts';
import { importPsbt, psbtBytes } from '../../../main/wallet/psbt-import.ts';
import { readPsbtMaps } from '../../../main/wallet/psbt-maps.ts';
import { planPsbtSigning } from '../../../main/wallet/psbt-signing.ts';
import {
  AMOUNTS,
  engine as reference,
  keys,
  RECEIVE_3,
  runRounds,
  signers,
  spendTx,
  taprootScript,
  verifyWithBitcoinJs,
} from './psbt-build.ts';

const prevouts = [
  { script: taprootScript(keys.base.outputKey), amount: AMOUNTS[0]! },
  { script: taprootScript(keys.base.outputKey), amount: AMOUNTS[1]! },
  { script: taprootScript(keys.derive(RECEIVE_3).outputKey), amount: AMOUNTS[2]! },
];

function signed(version: 0 | 2) {
  const bytes = psbtBytes(base64.encode(spendTx().toPSBT(version)));
  const plans = signers.map(() => planPsbtSigning(importPsbt(bytes), keys));
  const signatures = runRounds(importPsbt(bytes).tx, plans);
  return { bytes, plan: plans[0]!, signatures };
}

describe('finalizeKeyPath: the final witnesses written straight into the announced PSBT', () => {
  it.each([0, 2] as const)(
    'PSBTv%i: the same transaction and finalized PSBT as the PSBT engine’s finalizer; bitcoinjs-lib verifies each input',
    (version) => {
      const { bytes, plan, signatures } = signed(version);
      const fast = finalizeKeyPath(bytes, importPsbt(bytes).tx, plan, signatures);
      const engine = importPsbt(bytes).tx;
      reference.signatures(engine, plan, signatures);
      const slow = reference.finalize(engine);
      expect(fast.rawTxHex).toBe(slow.rawTxHex);
      expect(fast.txid).toBe(slow.txid);
      expect(verifyWithBitcoinJs(fast.rawTxHex, prevouts)).toEqual([true, true, true]);
      // The PSBT engine reads it as finalized and extracts the same transaction; it re-encodes to the engine's own output.
      const read = Transaction.fromPSBT(fast.psbt);
      expect(read.isFinal).toBe(true);
      expect(Buffer.from(read.extract()).toString('hex')).toBe(fast.rawTxHex);
      expect(Buffer.from(read.toPSBT(version)).equals(Buffer.from(slow.psbt))).toBe(true);
      expect(base64.decode(fast.psbtBase64)).toEqual(fast.psbt);
      // BIP174 finalizer: per input only the UTXO, the final witness (and PSBTv2's outpoint and sequence) remain.
      for (const input of readPsbtMaps(fast.psbt).inputs) {
        expect(input.every((e) => [0x01, 0x08, 0x0e, 0x0f, 0x10].includes(e.keyType))).toBe(true);
        expect(input.find((e) => e.keyType === 0x08)!.value.length).toBe(1 + 1 + 64);
      }
    },
  );

  it('refuses a signature that does not verify under its input’s output key, naming the input', () => {
    const { bytes, plan, signatures } = signed(0);
    const swapped = [signatures[0]!, signatures[2]!, signatures[1]!];
    expect(() => finalizeKeyPath(bytes, importPsbt(bytes).tx, plan, swapped)).toThrow(
      expect.objectContaining({ code: 'SIGNATURE_INVALID', context: { input: 1 } }),
    );
    expect(() => finalizeKeyPath(bytes, importPsbt(bytes).tx, plan, signatures.slice(0, 2))).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });
});
