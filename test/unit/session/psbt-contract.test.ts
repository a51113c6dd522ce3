/**
 * What the PSBT requests of the contract answer (psbt.review, groups.wallet) and accept (PSBT text):
 * the back end's values parse with the contract's schemas, which the UI checks every result against.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { describe, expect, it } from 'vitest';
import { GroupWallet, PsbtReview, PsbtText, requests } from '../../../preload/contract.ts';
import { groupWallet, RECEIVE_ADDRESSES_SHOWN } from '../../../main/group-wallet.ts';
import { GroupKeysCache, reviewFor, reviewView } from '../../../main/session/psbt-session.ts';
import { describeGroup } from '../../../main/wallet/group.ts';
import { hasValidChecksum } from '../../../main/wallet/descriptor.ts';
import { cosigners, spendFrom } from '../../support/psbt-fixtures.ts';

const signers = cosigners(3, 'contract');
const hexKeys = signers.map((s) => bytesToHex(s.publicKey));
const cache = new GroupKeysCache();
const keys = cache.of(hexKeys);
const stranger = cosigners(1, 'contract-stranger')[0]!.publicKey.subarray(1);

describe('psbt.review answers within the contract', () => {
  it('for a signable PSBT and for one with refused inputs', () => {
    const good = spendFrom(
      keys,
      [
        { path: [], amount: 5_000n },
        { path: [0, 2], amount: 6_000n },
      ],
      [
        { outputKey: stranger, amount: 8_000n },
        { changePath: [1, 1], amount: 2_500n },
      ],
    );
    const foreign = spendFrom(keys, [{ outputKey: stranger, amount: 5_000n }], [{ outputKey: stranger, amount: 4_000n }]);
    for (const [tx, signable] of [
      [good, true],
      [foreign, false],
    ] as const) {
      const view = reviewView(reviewFor(base64.encode(tx.toPSBT()), keys, 'testnet').review);
      expect(PsbtReview.parse(view)).toEqual(view);
      expect(view.signable).toBe(signable);
    }
  });
});

describe('groups.wallet answers within the contract', () => {
  it('gives checksummed descriptors, the synthetic xpub and the first receive addresses', () => {
    const group = describeGroup('savings', hexKeys, 'mainnet');
    const wallet = groupWallet(group);
    expect(GroupWallet.parse(wallet)).toEqual(wallet);
    expect(Object.values(wallet.descriptors).every(hasValidChecksum)).toBe(true);
    expect(wallet.descriptors.keyPath).toMatch(/^tr\(musig\(/);
    expect(wallet.syntheticXpub).toMatch(/^xpub/);
    expect(wallet.receiveAddresses).toHaveLength(RECEIVE_ADDRESSES_SHOWN);
    expect(wallet.receiveAddresses).toEqual([0, 1, 2, 3, 4].map((i) => keys.address([0, i], 'mainnet')));
    expect(new Set([group.address, ...wallet.receiveAddresses]).size).toBe(RECEIVE_ADDRESSES_SHOWN + 1);
    expect(groupWallet(describeGroup('test', hexKeys, 'testnet')).syntheticXpub).toMatch(/^tpub/);
  });
});

describe('PSBT text in requests', () => {
  const psbt = spendFrom(keys, [{ path: [], amount: 5_000n }], [{ outputKey: stranger, amount: 4_000n }]).toPSBT();

  it('accepts base64 (line breaks removed) and hex', () => {
    const b64 = base64.encode(psbt);
    expect(PsbtText.parse(`${b64.slice(0, 40)}\n${b64.slice(40)}\n`)).toBe(b64);
    expect(PsbtText.parse(bytesToHex(psbt))).toBe(bytesToHex(psbt));
    const args = requests['sessions.createPsbt'].args.parse({ groupId: 'ab'.repeat(32), psbt: b64 });
    expect(args).toMatchObject({ description: '', expiresInSeconds: 3600, allowNonDefaultSighash: false });
  });

  it('refuses what is neither, and text longer than 128 KiB of PSBT in hex', () => {
    for (const text of ['', 'not a psbt!', 'abc', 'cHNidP8=extra', '0'.repeat(2 * 128 * 1024 + 2)]) {
      expect(PsbtText.safeParse(text).success).toBe(false);
    }
  });
});
