/**
 * "Finalize from its signatures" on the New request screen, its UI side: psbt.complete through the
 * real client (arguments and result checked against the contract) over a scripted back end, and the
 * words the screen shows for the back end's errors naming an input and a signer.
 */
import { describe, expect, test } from 'vitest';
import { BridgeError } from '../../../preload/contract-kit.ts';
import { describeError, wordsFor } from '../../../renderer/src/error-words.ts';
import { FakeBackEnd } from './fake-bridge.ts';

const GROUP_ID = 'cd'.repeat(32);
const SIGNER = `02${'ab'.repeat(31)}9f`;
/** The shape of a finished transaction (not a real one: the client only checks the contract). */
const FINISHED = { psbtBase64: 'cHNidP8BAAoCAAAAAAAAAAAAAA==', rawTxHex: '02000000000000000000', txid: 'ef'.repeat(32) };

async function thrown(run: () => Promise<unknown>): Promise<BridgeError> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BridgeError);
  return error as BridgeError;
}

describe('psbt.complete from the UI', () => {
  test('sends the PSBT as the contract reads it and gives back the signed transaction', async () => {
    const backEnd = new FakeBackEnd();
    const received: unknown[] = [];
    backEnd.on('psbt.complete', (args) => {
      received.push(args);
      return FINISHED;
    });
    const result = await backEnd.bridge.call('psbt.complete', { groupId: GROUP_ID, psbt: 'cHNidP8B\nAAoCAAAA\n' });
    expect(result).toEqual(FINISHED);
    expect(received).toEqual([{ groupId: GROUP_ID, psbt: 'cHNidP8BAAoCAAAA', allowNonDefaultSighash: false }]);
    expect(backEnd.log).toEqual(['call:psbt.complete']);
  });

  test('refuses text that is not a PSBT before sending, and an answer outside the contract', async () => {
    const backEnd = new FakeBackEnd();
    backEnd.on('psbt.complete', () => ({ ...FINISHED, txid: FINISHED.txid.toUpperCase() }));
    expect((await thrown(() => backEnd.bridge.call('psbt.complete', { groupId: GROUP_ID, psbt: 'not a psbt!' }))).code).toBe(
      'INVALID_INPUT',
    );
    expect(backEnd.log).toEqual([]);
    expect((await thrown(() => backEnd.bridge.call('psbt.complete', { groupId: GROUP_ID, psbt: 'cHNidP8B' }))).code).toBe('INTERNAL');
  });

  test('a missing or invalid partial signature is shown naming the input and the signer’s key', async () => {
    const backEnd = new FakeBackEnd();
    const call = () => backEnd.bridge.call('psbt.complete', { groupId: GROUP_ID, psbt: 'cHNidP8B' });
    backEnd.on('psbt.complete', () => {
      throw {
        code: 'INVALID_INPUT',
        message: `input 1 has no partial signature from signer 2 (key ${SIGNER})`,
        context: { input: 1, signerIndex: 2, signer: SIGNER },
      };
    });
    const missing = describeError(await thrown(call));
    expect(missing.code).toBe('INVALID_INPUT');
    expect(missing.words).toBe(
      'This PSBT is not signed by every co-signer yet: input 1 has no MuSig2 nonce or partial signature from the key 02ababab…ab9f. Finish the signing in the other tool, or send a request instead.',
    );
    expect(missing.detail).toContain(SIGNER);

    backEnd.on('psbt.complete', () => {
      throw {
        code: 'INVALID_PARTIAL_SIGNATURE',
        message: `partial signature does not verify (input 2, signer 0, key ${SIGNER})`,
        context: { input: 2, signerIndex: 0, messageIndex: 2, signer: SIGNER },
      };
    });
    expect(describeError(await thrown(call)).words).toBe(
      'The partial signature of the key 02ababab…ab9f on input 2 is not valid, so the transaction cannot be finalized. Ask that co-signer to sign again.',
    );
  });

  test('the same codes without a named signer keep their plain words (form fields, a session’s failure)', () => {
    expect(wordsFor('INVALID_INPUT', { input: 1 })).toBe(wordsFor('INVALID_INPUT'));
    expect(wordsFor('INVALID_PARTIAL_SIGNATURE', { signerIndex: 1, messageIndex: 0 })).toBe(wordsFor('INVALID_PARTIAL_SIGNATURE'));
    expect(wordsFor('INVALID_PARTIAL_SIGNATURE')).toMatch(/^A co-signer sent an invalid partial signature/);
  });
});
