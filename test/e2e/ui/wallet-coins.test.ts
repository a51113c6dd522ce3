import * as bitcoin from 'bitcoinjs-lib';
import { tapleafHash } from 'bitcoinjs-lib/src/payments/bip341';
import * as ecc from 'tiny-secp256k1';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectControl, type ControlClient } from '../../../main/daemon/control-client.ts';
import { browserGate, launchChromium } from '../../support/prerequisites.ts';
import { startUiHarness, type UiHarness } from '../../support/ui-harness.ts';

// The group's coins on its wallet screen and the broadcast of a finished transaction, in Debian's
// Chromium over the UI harness, whose wallet.* requests are the app's own handlers asking a local
// Esplora server (test/support/esplora-server.ts) about the family group's small chain. A 2-of-3
// group saved and funded by the test itself (the harness's fixtures stay as other tests count them)
// is spent over a leaf picked on the Send form; another, whose single recovery key is ours, is spent
// by that key alone.
const needs = browserGate();

describe.skipIf(needs.skip !== undefined)(needs.title("a group's coins through the UI"), () => {
  let browser: Browser;
  let harness: UiHarness;
  let control: ControlClient;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    needs.assert();
    harness = await startUiHarness({ stepMs: 0 });
    control = await connectControl(harness.url);
    browser = await launchChromium();
  });

  afterAll(async () => {
    control?.close();
    await browser?.close();
    await harness?.close();
  });

  async function open(view: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${harness.url}&view=${view}`);
    return page;
  }

  it('asks nothing until Refresh, then shows the balance, coins, history and the next unused receive address', async () => {
    const page = await open('cosigners');
    await page.getByTestId('group-wallet').first().click();
    await page.getByTestId('wallet-privacy').waitFor();
    expect(harness.chain.requests).toEqual([]);
    await page.getByTestId('wallet-refresh').click();
    await page.getByTestId('wallet-history').waitFor();
    // The harness chain: 640 000 (receive 1) + 248 000 change (receive 0 spent) confirmed, 75 000 (receive 2) unconfirmed.
    expect(await page.getByTestId('wallet-confirmed').textContent()).toContain('888,000 sat');
    expect(await page.getByTestId('wallet-unconfirmed').textContent()).toContain('75,000 sat');
    expect(await page.getByTestId('wallet-utxos').locator('tbody tr').count()).toBe(3);
    expect(await page.getByTestId('wallet-history').locator('tbody tr').count()).toBe(4);
    // Receive addresses 0, 1 and 2 are used: the next is 3 (as the groups.wallet list below names it).
    const next = (await page.getByTestId('wallet-next-address').textContent())!.trim();
    expect(next).toBe((await page.getByTestId('wallet-address').nth(3).textContent())!.trim());
    expect(pageErrors).toEqual([]);
  });

  it('sends from the Send form: a bitcoin: link read, the PSBT built and handed to the request screen, where the review shows the change', async () => {
    const page = await open('cosigners');
    await page.getByTestId('group-wallet').first().click();
    await page.getByTestId('wallet-refresh').click();
    await page.getByTestId('wallet-history').waitFor();
    // A mainnet P2WPKH address (BIP173's example) asking 0.001 BTC.
    const payee = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';
    await page.getByTestId('send-uri').fill(`bitcoin:${payee}?amount=0.001&label=Plumber`);
    await page.getByTestId('send-uri-read').click();
    await expect.poll(() => page.getByTestId('send-amount').inputValue()).toBe('0.001');
    expect(await page.getByTestId('send-address').inputValue()).toBe(payee);
    await page.getByTestId('send-fee-typed').check();
    await page.getByTestId('send-fee-rate').fill('3');
    await page.getByTestId('send-build').click();
    await page.getByTestId('send-summary').waitFor();
    expect(await page.getByTestId('send-fee').textContent()).toContain('3 sat/vB');
    await page.getByTestId('send-ask-cosigners').click();
    const psbt = await page.getByTestId('psbt-input').inputValue();
    expect(psbt.startsWith('cHNidP8')).toBe(true);
    await page.getByTestId('review-psbt').click();
    await page.getByTestId('psbt-review').waitFor();
    const reviewText = await page.getByTestId('psbt-review').textContent();
    expect(reviewText).toContain('100,000 sat');
    expect(reviewText).toContain('change (back to this group)');
    expect(await page.getByTestId('send-psbt-request').isEnabled()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('reads a payment request from a picture of its QR code; a picture without one is said so', async () => {
    const { default: encodeQR } = await import('qr');
    const page = await open('cosigners');
    await page.getByTestId('group-wallet').first().click();
    const payee = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';
    const gif = encodeQR(`bitcoin:${payee.toUpperCase()}?amount=0.0025`, 'gif', { scale: 4 });
    await page.getByTestId('send-qr-image').setInputFiles({ name: 'pay.gif', mimeType: 'image/gif', buffer: Buffer.from(gif) });
    await expect.poll(() => page.getByTestId('send-address').inputValue()).toBe(payee);
    expect(await page.getByTestId('send-amount').inputValue()).toBe('0.0025');
    const blank = encodeQR('x', 'gif').slice(0, 20);
    await page.getByTestId('send-qr-image').setInputFiles({ name: 'blank.gif', mimeType: 'image/gif', buffer: Buffer.from(blank) });
    await page.getByTestId('send-qr-problem').waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('broadcasts a finished transaction byte-exact and links it to the explorer', async () => {
    const page = await open('new');
    await page.getByTestId('request-kind-psbt').check();
    await page.getByTestId('request-group').selectOption({ label: 'Family savings (3 signers)' });
    await page.getByTestId('psbt-input').fill(harness.psbts.cosigned);
    await page.getByTestId('review-psbt').click();
    await page.getByTestId('psbt-review').waitFor();
    await page.getByTestId('complete-psbt').click();
    const rawTxHex = (await page.getByTestId('raw-tx').textContent())!.trim();
    const txid = (await page.getByTestId('tx-id').textContent())!.trim();
    await page.getByTestId('broadcast-tx').click();
    await page.getByTestId('broadcast-done').waitFor();
    expect(harness.chain.broadcasts).toEqual([rawTxHex]);
    expect(await page.getByTestId('broadcast-done').locator('a').getAttribute('href')).toBe(`https://mempool.space/tx/${txid}`);
    expect(pageErrors).toEqual([]);
  });

  it('spends a 2-of-3 group over the leaf picked on the Send form or in Speed up, and the request screen asks over that same leaf', async () => {
    const family = (await control.bridge.call('groups.list', {})).find((g) => g.name === 'Family savings')!;
    const group = await control.bridge.call('groups.save', {
      name: 'Any two of us',
      publicKeys: family.publicKeys,
      policy: { kind: 'k-of-n', k: 2 },
    });
    const { receiveAddresses } = await control.bridge.call('groups.wallet', { id: group.id });
    harness.chain.chain.pay([{ address: receiveAddresses[1]!, value: 400_000 }]);
    harness.chain.chain.mine();

    const page = await open(`wallet/${group.id}`);
    await page.getByTestId('wallet-refresh').click();
    await page.getByTestId('wallet-history').waitFor();
    expect(await page.locator('body').textContent()).toContain('spending them needs any 2 of 3 signers');
    const send = page.getByTestId('wallet-send');
    const picker = send.getByTestId('path-picker');
    expect(await picker.locator('[data-kind="key"]').isChecked()).toBe(true);
    await send.getByTestId('path-note').waitFor();
    const leaf = picker.locator('[data-kind="leaf"]').first();
    const signers = (await leaf.getAttribute('data-signers'))!;
    await leaf.check();
    await page.getByTestId('send-address').fill('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
    await page.getByTestId('send-amount').fill('0.001');
    await page.getByTestId('send-fee-typed').check();
    await page.getByTestId('send-fee-rate').fill('2');
    await page.getByTestId('send-build').click();
    await page.getByTestId('send-summary').waitFor();
    await page.getByTestId('send-ask-cosigners').click();

    // The request screen has the same leaf chosen, and the PSBT's input is that leaf's spend: its
    // script path, read by bitcoinjs-lib, commits to the coin's taproot output.
    const chosen = page.getByTestId('path-picker').locator('input:checked');
    expect(await chosen.getAttribute('data-signers')).toBe(signers);
    const psbt = bitcoin.Psbt.fromBase64(await page.getByTestId('psbt-input').inputValue());
    expect(psbt.data.inputs).toHaveLength(1);
    const input = psbt.data.inputs[0]!;
    expect(input.tapLeafScript).toHaveLength(1);
    const { script, controlBlock } = input.tapLeafScript![0]!;
    const output = bitcoin.payments.p2tr({ witness: [Buffer.alloc(64), script, controlBlock] }).output!;
    expect(Buffer.from(output).toString('hex')).toBe(Buffer.from(input.witnessUtxo!.script).toString('hex'));
    expect(Buffer.from(output).toString('hex')).toBe(Buffer.from(bitcoin.address.toOutputScript(receiveAddresses[1]!)).toString('hex'));

    await page.getByTestId('review-psbt').click();
    await page.getByTestId('psbt-review').waitFor();
    await page.getByTestId('send-psbt-request').click();
    const spendPath = page.getByTestId('spend-path');
    await spendPath.waitFor();
    expect(await spendPath.getAttribute('data-kind')).toBe('leaf');
    const notNeeded = await page.getByTestId('not-needed-signer').evaluateAll((els) => els.map((e) => e.getAttribute('data-public-key')));
    expect(notNeeded).toEqual(family.publicKeys.filter((k) => !signers.split(',').includes(k)));

    // The spend lands unconfirmed; its Speed up picks another leaf and hands that one over.
    const stuck = harness.chain.chain.pay(
      psbt.txOutputs.map((o) => ({ script: o.script, value: Number(o.value) })),
      psbt.txInputs.map((i) => ({ txid: Buffer.from(i.hash).reverse().toString('hex'), vout: i.index })),
    );
    const wallet = await open(`wallet/${group.id}`);
    await wallet.getByTestId('wallet-refresh').click();
    await wallet.locator(`[data-testid="wallet-history-row"][data-txid="${stuck}"]`).getByTestId('wallet-speed-up').click();
    const speedUp = wallet.getByTestId('speed-up');
    expect(await speedUp.getByTestId('path-picker').locator('[data-kind="key"]').isChecked()).toBe(true);
    const other = speedUp.getByTestId('path-picker').locator('[data-kind="leaf"]').last();
    const otherSigners = (await other.getAttribute('data-signers'))!;
    expect(otherSigners).not.toBe(signers);
    await other.check();
    await speedUp.getByTestId('speed-up-rate').fill('10');
    await speedUp.getByTestId('speed-up-build').click();
    await speedUp.getByTestId('speed-up-ask-cosigners').click();
    expect(await wallet.getByTestId('path-picker').locator('input:checked').getAttribute('data-signers')).toBe(otherSigners);
    const replacement = bitcoin.Psbt.fromBase64(await wallet.getByTestId('psbt-input').inputValue());
    expect(replacement.txInputs.map((i) => i.index)).toEqual(psbt.txInputs.map((i) => i.index));
    const leafSpend = replacement.data.inputs[0]!.tapLeafScript![0]!;
    expect(Buffer.from(leafSpend.script).equals(Buffer.from(script))).toBe(false);
    const replaced = bitcoin.payments.p2tr({ witness: [Buffer.alloc(64), leafSpend.script, leafSpend.controlBlock] }).output!;
    expect(Buffer.from(replaced).toString('hex')).toBe(Buffer.from(bitcoin.address.toOutputScript(receiveAddresses[1]!)).toString('hex'));
    expect(pageErrors).toEqual([]);
  });

  it('signs alone with our single recovery key from the Send form: the spend waits out older(N) and broadcasts', async () => {
    const family = (await control.bridge.call('groups.list', {})).find((g) => g.name === 'Family savings')!;
    const me = (await control.bridge.call('keys.status', {})).key!.publicKey;
    const group = await control.bridge.call('groups.save', {
      name: 'Any two, or me after a while',
      publicKeys: family.publicKeys,
      policy: { kind: 'k-of-n', k: 2, recovery: { keys: [me], olderBlocks: 3 } },
    });
    const { receiveAddresses } = await control.bridge.call('groups.wallet', { id: group.id });
    const funding = harness.chain.chain.pay([{ address: receiveAddresses[2]!, value: 300_000 }]);
    for (let i = 0; i < 4; i++) harness.chain.chain.mine();

    const page = await open(`wallet/${group.id}`);
    await page.getByTestId('wallet-refresh').click();
    await page.getByTestId('wallet-history').waitFor();
    const send = page.getByTestId('wallet-send');
    // One key is no session: the picker offers no recovery path; the Send form signs with it instead.
    expect(await send.getByTestId('path-picker').getByTestId('path-choice-recovery').count()).toBe(0);
    const alone = send.getByTestId('send-recovery-alone');
    expect((await alone.textContent())!.replace(/\s+/g, ' ')).toContain('only coins at least 3 blocks old');
    await page.getByTestId('send-address').fill('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
    await page.getByTestId('send-amount').fill('0.001');
    await page.getByTestId('send-fee-typed').check();
    await page.getByTestId('send-fee-rate').fill('2');
    // Built first and shown (what it pays, its fee), then signed: exactly the transaction shown.
    await alone.getByTestId('send-recovery-build').click();
    await alone.getByTestId('send-recovery-summary').waitFor();
    await alone.getByTestId('send-recovery-sign').click();
    await page.getByTestId('signed-transaction').waitFor();
    const rawTxHex = (await page.getByTestId('raw-tx').textContent())!.trim();

    // bitcoinjs-lib reads it: one input, the funding coin, spent over the recovery leaf of that
    // output with nSequence 3 in a version 2 transaction; tiny-secp256k1 verifies the BIP342 signature.
    const tx = bitcoin.Transaction.fromHex(rawTxHex);
    expect(tx.version).toBe(2);
    expect(tx.ins).toHaveLength(1);
    const input = tx.ins[0]!;
    expect(Buffer.from(input.hash).reverse().toString('hex')).toBe(funding);
    expect(input.sequence).toBe(3);
    const [signature, script, controlBlock] = input.witness as [Uint8Array, Uint8Array, Uint8Array];
    const prevout = bitcoin.address.toOutputScript(receiveAddresses[2]!);
    const output = bitcoin.payments.p2tr({ witness: [signature, script, controlBlock] }).output!;
    expect(Buffer.from(output).toString('hex')).toBe(Buffer.from(prevout).toString('hex'));
    expect(Buffer.from(script.subarray(1, 33)).toString('hex')).toBe(me.slice(2));
    const leafHash = tapleafHash({ output: script, version: 0xc0 });
    const hash = tx.hashForWitnessV1(0, [prevout], [300_000n], bitcoin.Transaction.SIGHASH_DEFAULT, leafHash);
    expect(ecc.verifySchnorr(hash, script.subarray(1, 33), signature)).toBe(true);

    await page.getByTestId('broadcast-tx').click();
    await page.getByTestId('broadcast-done').waitFor();
    expect(harness.chain.broadcasts.at(-1)).toBe(rawTxHex);
    expect(pageErrors).toEqual([]);
  });

  it('offers the recovery path of a recovery pair we are in, with its wait, and builds and asks over that leaf', async () => {
    const family = (await control.bridge.call('groups.list', {})).find((g) => g.name === 'Family savings')!;
    const me = (await control.bridge.call('keys.status', {})).key!.publicKey;
    const other = family.publicKeys.find((k) => k !== me)!;
    const group = await control.bridge.call('groups.save', {
      name: 'Any two, or a pair after a month',
      publicKeys: family.publicKeys,
      policy: { kind: 'k-of-n', k: 2, recovery: { keys: [me, other], olderBlocks: 4320 } },
    });
    const { receiveAddresses } = await control.bridge.call('groups.wallet', { id: group.id });
    harness.chain.chain.pay([{ address: receiveAddresses[3]!, value: 200_000 }]);
    harness.chain.chain.mine();

    const page = await open(`wallet/${group.id}`);
    await page.getByTestId('wallet-refresh').click();
    await page.getByTestId('wallet-history').waitFor();
    const send = page.getByTestId('wallet-send');
    expect(await send.getByTestId('send-recovery-alone').count()).toBe(0);
    const recovery = send.getByTestId('path-picker').locator('label', { has: page.getByTestId('path-choice-recovery') });
    expect((await recovery.textContent())!.replace(/\s+/g, ' ')).toContain('only coins at least 4320 blocks old, about 30 days');
    const radio = recovery.getByTestId('path-choice');
    expect(await radio.getAttribute('data-signers')).toBe([me, other].sort().join(','));
    await radio.check();
    await page.getByTestId('send-address').fill('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
    await page.getByTestId('send-amount').fill('0.001');
    await page.getByTestId('send-fee-typed').check();
    await page.getByTestId('send-fee-rate').fill('2');
    // The coin is one block deep: a recovery spend of it is refused in words, not built.
    await page.getByTestId('send-build').click();
    await expect.poll(async () => (await send.textContent())!.replace(/\s+/g, ' '), { timeout: 30_000 }).toContain('4320 blocks old yet');
    expect(await page.getByTestId('send-summary').count()).toBe(0);
    for (let i = 1; i < 4320; i++) harness.chain.chain.mine();
    await page.getByTestId('wallet-refresh').click();
    await expect.poll(async () => (await page.getByTestId('wallet-refresh').textContent())?.trim(), { timeout: 30_000 }).toBe('Refresh');
    await page.getByTestId('send-build').click();
    await page.getByTestId('send-summary').waitFor();
    await page.getByTestId('send-ask-cosigners').click();

    // The request screen keeps the recovery path; the PSBT's input waits 4320 blocks and executes the
    // recovery leaf (the last, OP_CHECKSEQUENCEVERIFY) of the coin's output, read by bitcoinjs-lib.
    expect(await page.getByTestId('path-picker').locator('input:checked').getAttribute('data-signers')).toBe([me, other].sort().join(','));
    const psbt = bitcoin.Psbt.fromBase64(await page.getByTestId('psbt-input').inputValue());
    expect(psbt.txInputs.map((i) => i.sequence)).toEqual([4320]);
    const { script, controlBlock } = psbt.data.inputs[0]!.tapLeafScript![0]!;
    expect(script[script.length - 1]).toBe(bitcoin.opcodes.OP_CHECKSEQUENCEVERIFY);
    const output = bitcoin.payments.p2tr({ witness: [Buffer.alloc(64), script, controlBlock] }).output!;
    expect(Buffer.from(output).toString('hex')).toBe(Buffer.from(bitcoin.address.toOutputScript(receiveAddresses[3]!)).toString('hex'));
    await page.getByTestId('review-psbt').click();
    await page.getByTestId('psbt-review').waitFor();
    await page.getByTestId('send-psbt-request').click();
    const spendPath = page.getByTestId('spend-path');
    await spendPath.waitFor();
    expect(await spendPath.textContent()).toContain('(the recovery path)');
    expect(pageErrors).toEqual([]);
  });
});
