import { StringDecoder } from 'node:string_decoder';
import { CosignerError } from '../errors.ts';

/** Where a headless server's key file passphrase can come from, besides a terminal prompt. */
export const PASSPHRASE_ENV = 'COSIGNER_KEYSTORE_PASSPHRASE';

export interface PassphraseInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
}

export interface ReadPassphraseOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** Defaults to process.stdin. */
  input?: PassphraseInput;
  /** Where the prompt goes; defaults to process.stderr so stdout stays clean for scripts. */
  output?: NodeJS.WritableStream;
  prompt?: string;
  /** Ask twice and require the same answer: for a key file about to be created. */
  confirm?: boolean;
}

const HINT = `Set ${PASSPHRASE_ENV} in the environment, or run in a terminal to be asked for it.`;

/**
 * The key file passphrase: from COSIGNER_KEYSTORE_PASSPHRASE if set, otherwise typed at a
 * terminal without echo. Never invented or defaulted: with neither, PASSPHRASE_REQUIRED.
 */
export async function readPassphrase(options: ReadPassphraseOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const fromEnv = env[PASSPHRASE_ENV];
  if (fromEnv !== undefined) {
    if (fromEnv.length === 0) {
      throw new CosignerError('PASSPHRASE_REQUIRED', `${PASSPHRASE_ENV} is set but empty`, { hint: HINT });
    }
    return fromEnv;
  }
  const input = options.input ?? (process.stdin as PassphraseInput);
  const output = options.output ?? process.stderr;
  if (input.isTTY !== true || typeof input.setRawMode !== 'function') {
    throw new CosignerError('PASSPHRASE_REQUIRED', 'the key file needs a passphrase and there is no terminal to ask for it', {
      hint: HINT,
    });
  }
  const first = await promptHidden(input, output, options.prompt ?? 'Key file passphrase: ');
  if (first.length === 0) throw new CosignerError('PASSPHRASE_REQUIRED', 'the passphrase is empty', { hint: HINT });
  if (options.confirm === true) {
    const second = await promptHidden(input, output, 'Repeat the passphrase: ');
    if (second !== first) {
      throw new CosignerError('CONFIRMATION_MISMATCH', 'the two passphrases differ', { what: 'passphrase' });
    }
  }
  return first;
}

/** Reads one line in raw mode, echoing nothing: Enter ends, Backspace and Ctrl-U edit, Ctrl-C and Ctrl-D abort. */
function promptHidden(input: PassphraseInput, output: NodeJS.WritableStream, prompt: string): Promise<string> {
  output.write(prompt);
  return new Promise<string>((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    let typed: string[] = [];
    const finish = (error: CosignerError | null): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      if (error === null) resolve(typed.join(''));
      else reject(error);
    };
    const aborted = (): CosignerError => new CosignerError('ABORTED', 'passphrase entry cancelled');
    const onEnd = (): void => finish(aborted());
    const onData = (chunk: Buffer | string): void => {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      for (const char of text) {
        if (char === '\r' || char === '\n') return finish(null);
        if (char === '\u0003' || (char === '\u0004' && typed.length === 0)) return finish(aborted());
        if (char === '\u007f' || char === '\b') typed.pop();
        else if (char === '\u0015') typed = [];
        else if (char >= ' ') typed.push(char);
      }
    };
    input.setRawMode?.(true);
    input.on('data', onData);
    input.on('end', onEnd);
    input.resume();
  });
}
