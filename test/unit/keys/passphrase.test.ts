import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type PassphraseInput, PASSPHRASE_ENV, readPassphrase } from '../../../main/keys/passphrase.ts';
import { failure } from '../../support/keys.ts';

/** A terminal stand-in: records raw-mode switches; what the user types is written into it. */
function fakeTty(): PassThrough & PassphraseInput & { rawModes: boolean[] } {
  const tty = new PassThrough() as PassThrough & PassphraseInput & { rawModes: boolean[] };
  tty.isTTY = true;
  tty.rawModes = [];
  tty.setRawMode = (raw: boolean) => tty.rawModes.push(raw);
  return tty;
}

function sink(): PassThrough & { text: () => string } {
  const out = new PassThrough() as PassThrough & { text: () => string };
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  out.text = () => Buffer.concat(chunks).toString('utf8');
  return out;
}

describe('readPassphrase', () => {
  it('takes COSIGNER_KEYSTORE_PASSPHRASE when set, without touching the terminal', async () => {
    const tty = fakeTty();
    expect(await readPassphrase({ env: { [PASSPHRASE_ENV]: ' spaces kept ' }, input: tty })).toBe(' spaces kept ');
    expect(tty.rawModes).toEqual([]);
  });

  it('an empty variable is PASSPHRASE_REQUIRED, not an empty passphrase', async () => {
    expect((await failure(readPassphrase({ env: { [PASSPHRASE_ENV]: '' }, input: fakeTty() }))).code).toBe('PASSPHRASE_REQUIRED');
  });

  it('no variable and no terminal: PASSPHRASE_REQUIRED with a hint, never a default', async () => {
    const notTty = new PassThrough() as PassThrough & PassphraseInput;
    const e = await failure(readPassphrase({ env: {}, input: notTty, output: sink() }));
    expect(e.code).toBe('PASSPHRASE_REQUIRED');
    expect(e.context.hint).toContain(PASSPHRASE_ENV);
  });

  it('prompts on the terminal in raw mode, echoes nothing, handles backspace and Ctrl-U, restores the mode', async () => {
    const tty = fakeTty();
    const out = sink();
    const answer = readPassphrase({ env: {}, input: tty, output: out });
    tty.write('wrong\u0015s3cr');
    tty.write(Buffer.from('e\u00e9x\u007f', 'utf8'));
    tty.write('t\r');
    expect(await answer).toBe('s3cre\u00e9t');
    expect(tty.rawModes).toEqual([true, false]);
    expect(out.text()).toBe('Key file passphrase: \n');
  });

  it('a UTF-8 character split across chunks is read whole', async () => {
    const tty = fakeTty();
    const answer = readPassphrase({ env: {}, input: tty, output: sink() });
    const bytes = Buffer.from('\u00e9\n', 'utf8');
    tty.write(bytes.subarray(0, 1));
    tty.write(bytes.subarray(1));
    expect(await answer).toBe('\u00e9');
  });

  it('confirm asks twice; different answers are CONFIRMATION_MISMATCH', async () => {
    const tty = fakeTty();
    const out = sink();
    const same = readPassphrase({ env: {}, input: tty, output: out, confirm: true });
    tty.write('abc\r');
    await new Promise((r) => setImmediate(r));
    tty.write('abc\n');
    expect(await same).toBe('abc');
    expect(out.text()).toBe('Key file passphrase: \nRepeat the passphrase: \n');

    const tty2 = fakeTty();
    const differ = readPassphrase({ env: {}, input: tty2, output: sink(), confirm: true });
    tty2.write('abc\r');
    await new Promise((r) => setImmediate(r));
    tty2.write('abd\r');
    const e = await failure(differ);
    expect(e.code).toBe('CONFIRMATION_MISMATCH');
    expect(JSON.stringify(e)).not.toMatch(/abc|abd/);
  });

  it('Ctrl-C, Ctrl-D on an empty line and end of input abort; an empty line is refused', async () => {
    for (const keys of ['ab\u0003', '\u0004']) {
      const tty = fakeTty();
      const answer = readPassphrase({ env: {}, input: tty, output: sink() });
      tty.write(keys);
      expect((await failure(answer)).code).toBe('ABORTED');
      expect(tty.rawModes).toEqual([true, false]);
    }
    const ended = fakeTty();
    const answer = readPassphrase({ env: {}, input: ended, output: sink() });
    ended.end();
    expect((await failure(answer)).code).toBe('ABORTED');

    const empty = fakeTty();
    const blank = readPassphrase({ env: {}, input: empty, output: sink() });
    empty.write('\r');
    expect((await failure(blank)).code).toBe('PASSPHRASE_REQUIRED');
  });
});
