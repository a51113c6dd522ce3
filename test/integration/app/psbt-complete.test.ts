/**
 * psbt.complete through the app's own handlers and the contract's dispatcher (arguments and result
 * parsed on the way in and out, as over IPC or the control API): a PSBT whose BIP373 nonces and
 * partial signatures another tool wrote (@scure/btc-signer's updater, test/unit/wallet/psbt-build.ts)
 * becomes a transaction bitcoinjs-lib verifies, on an app with no signer key (no signing stack); a
 * missing or tampered partial signature is named by input and signer; a PSBT not of the group is refused.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import type { Transaction } from '@scure/btc-signer';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requests, SignedTransaction, type Group } from '../../../preload/contract.ts';
import { startServices, type Services } from '../../../main/app.ts';
import { createDispatcher, type Dispatcher } from '../../../main/contract-dispatch.ts';
import { groupKeyAgg } from '../../../main/wallet/group.ts';
import { GroupKeys } from '../../../main/wallet/group-keys.ts';
import { importPsbt } from '../../../main/wallet/psbt-import.ts';
import { planPsbtSigning, type PsbtSigningPlan } from '../../../main/wallet/psbt-signing.ts';
import { cosigners, spendFrom, spentOutputs, verifyWithBitcoinJs, virtualSizeOf } from '../../support/psbt-fixtures.ts';
import { indexOf, keys, runRounds, signers, spendTx, stranger } from '../../unit/wallet/psbt-build.ts';

const hex = bytesToHex;

/**
 * spendTx() (two inputs on the group's key, one on its BIP328 child 0/3) with the three signers'
 * rounds run and every BIP373 field written by the PSBT engine, as another tool does; `edit` then
 * changes the partial signatures of one input (by signer position), as a broken or hostile tool could.
 */
function cosignedElsewhere(edit?: { position: number; change: (partials: (Uint8Array | undefined)[]) => void }): {
  tx: Transaction;
  psbt: string;
  plan: PsbtSigningPlan;
} {
  const announced = spendTx().toPSBT(0);
  const plans = signers.map(() => planPsbtSigning(importPsbt(announced), keys));
  const { tx } = importPsbt(announced);
  let partials: Uint8Array[][] = [];
  runRounds(tx, plans, (made) => (partials = made.map((list) => [...list])));
  const plan = plans[0]!;
  if (edit) {
    const input = plan.inputs[edit.position]!;
    const column: (Uint8Array | undefined)[] = partials.map((list) => list[edit.position]);
    edit.change(column);
    tx.updateInput(input.index, { musig2PartialSig: undefined });
    column.forEach((partial, signer) => {
      if (!partial) return;
      const key = { participantPubkey: plan.participants[signer]!, aggregatePubkey: input.key.signingCtx.aggregateKey };
      tx.updateInput(input.index, { musig2PartialSig: [[key, partial]] });
    });
  }
  return { tx, psbt: base64.encode(tx.toPSBT()), plan };
}

describe('psbt.complete: a PSBT co-signed by another BIP373 tool, finalized by the app', () => {
  let dataDir: string;
  let services: Services;
  let call: Dispatcher;
  let group: Group;
  const internalErrors: unknown[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'cosigner-complete-'));
    services = await startServices({
      mode: 'headless',
      dataDir,
      keystore: { kind: 'file', passphrase: 'psbt complete test' },
      overrides: { network: 'regtest', mdns: false },
    });
    call = createDispatcher(requests, services.handlers, (_method, error) => internalErrors.push(error));
    group = (await call('groups.save', { name: 'three', publicKeys: signers.map((s) => hex(s.publicKey)) })) as Group;
  });

  afterAll(async () => {
    await services?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    expect(internalErrors).toEqual([]);
  });

  it('runs with no signer key: the signing stack is stopped', async () => {
    expect(await call('keys.status', {})).toMatchObject({ key: null, problem: null });
    await expect(call('node.status', {})).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
  });

  it('gives the finalized PSBT and the transaction, every input verified by bitcoinjs-lib, from base64 or hex', async () => {
    const { psbt } = cosignedElsewhere();
    const unsigned = spendTx();
    const result = SignedTransaction.parse(await call('psbt.complete', { groupId: group.id, psbt }));
    expect(verifyWithBitcoinJs(result.rawTxHex, spentOutputs(unsigned))).toEqual([true, true, true]);
    // A segwit spend's id does not cover its witnesses: it is the txid of the PSBT's transaction.
    expect(result.txid).toBe(unsigned.id);
    expect(virtualSizeOf(result.rawTxHex).txid).toBe(result.txid);
    const finalized = importPsbt(result.psbtBase64).tx;
    expect(finalized.isFinal).toBe(true);
    expect(hex(finalized.extract())).toBe(result.rawTxHex);
    // The same PSBT pasted as hex, with line breaks: the same transaction.
    const text = hex(base64.decode(psbt)).replace(/(.{76})/g, '$1\n');
    expect(await call('psbt.complete', { groupId: group.id, psbt: text })).toEqual(result);
  });

  it('a missing partial signature is INVALID_INPUT naming the input and the signer, with its key', async () => {
    const culprit = indexOf(signers[2]!.publicKey);
    const { psbt, plan } = cosignedElsewhere({ position: 1, change: (column) => (column[culprit] = undefined) });
    const signer = hex(plan.participants[culprit]!);
    const error = await call('psbt.complete', { groupId: group.id, psbt }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', context: { input: 1, signerIndex: culprit, signer } });
    expect((error as Error).message).toBe(`input 1 has no partial signature from signer ${culprit} (key ${signer})`);
  });

  it('a tampered partial signature is INVALID_PARTIAL_SIGNATURE naming the signer and the input', async () => {
    const culprit = indexOf(signers[1]!.publicKey);
    // Another input's partial of the same signer: a well-formed scalar that does not verify here.
    const other = cosignedElsewhere();
    const borrowed = other.tx
      .getInput(0)
      .musig2PartialSig!.find(([k]) => hex(k.participantPubkey) === hex(other.plan.participants[culprit]!))![1];
    const { psbt, plan } = cosignedElsewhere({ position: 2, change: (column) => (column[culprit] = borrowed) });
    const signer = hex(plan.participants[culprit]!);
    const error = await call('psbt.complete', { groupId: group.id, psbt }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_PARTIAL_SIGNATURE', context: { input: 2, signerIndex: culprit, signer } });
    expect((error as Error).message).toBe(`partial signature does not verify (input 2, signer ${culprit}, key ${signer})`);
  });

  it('a PSBT without the rounds is INVALID_INPUT: the first missing public nonce', async () => {
    const psbt = base64.encode(spendTx().toPSBT(2));
    await expect(call('psbt.complete', { groupId: group.id, psbt })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      context: { input: 0, signerIndex: 0 },
      message: expect.stringMatching(/^input 0 has no public nonce from signer 0 \(key 0[23][0-9a-f]{64}\)$/),
    });
  });

  it('a PSBT this group cannot sign is PSBT_REFUSED, as for a review; one that does not read is INVALID_PSBT', async () => {
    const otherGroup = new GroupKeys(groupKeyAgg(cosigners(3, 'another group').map((s) => hex(s.publicKey))));
    const foreign = spendFrom(otherGroup, [{ path: [], amount: 10_000n }], [{ outputKey: stranger.publicKey.subarray(1), amount: 9_000n }]);
    await expect(call('psbt.complete', { groupId: group.id, psbt: base64.encode(foreign.toPSBT()) })).rejects.toMatchObject({
      code: 'PSBT_REFUSED',
      context: { input: 0, code: 'not-ours', refused: 1, inputs: 1 },
    });
    const review = await call('psbt.review', { groupId: group.id, psbt: base64.encode(foreign.toPSBT()) });
    expect(review).toMatchObject({ signable: false });
    await expect(call('psbt.complete', { groupId: group.id, psbt: 'AAAAAAAA' })).rejects.toMatchObject({ code: 'INVALID_PSBT' });
    await expect(call('psbt.complete', { groupId: group.id, psbt: 'not a psbt!' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('psbt.complete in the contract', () => {
  it('takes the review’s arguments and answers a SignedTransaction', () => {
    expect(requests['psbt.complete'].args).toBe(requests['psbt.review'].args);
    expect(requests['psbt.complete'].result).toBe(SignedTransaction);
  });
});
