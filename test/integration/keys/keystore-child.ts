/**
 * Runs one keystore operation in a fresh process and prints the result as one JSON line, so
 * tests can check what a NEW process reads back (and what it loads).
 *
 *   node keystore-child.ts <info|peer-id|modules|delete> '<OpenKeystoreOptions as JSON>' [fingerprint]
 *
 * `modules` runs `info` and then reports whether the keytar module was loaded; `delete` deletes
 * the signer key with the fingerprint given and prints `{ deleted: true }`.
 */
import { createRequire } from 'node:module';
import { isCosignerError } from '../../../main/errors.ts';
import { openKeystore, type OpenKeystoreOptions } from '../../../main/keys/index.ts';

const [command, optionsJson, fingerprint] = process.argv.slice(2);
const options = JSON.parse(optionsJson ?? '{}') as OpenKeystoreOptions;

function keytarLoaded(): boolean {
  return Object.keys(createRequire(import.meta.url).cache).some((path) => /[\\/]keytar[\\/]/.test(path));
}

try {
  const keystore = openKeystore(options);
  if (command === 'peer-id') {
    console.log(JSON.stringify({ peerId: (await keystore.peerIdentity()).peerId }));
  } else if (command === 'delete') {
    await keystore.delete(fingerprint ?? '');
    console.log(JSON.stringify({ deleted: true }));
  } else {
    const info = await keystore.info();
    console.log(JSON.stringify(command === 'modules' ? { info, keytarLoaded: keytarLoaded() } : { info }));
  }
} catch (e) {
  console.log(
    JSON.stringify(
      isCosignerError(e)
        ? { error: e.code, message: e.message, context: e.context, keytarLoaded: keytarLoaded() }
        : { error: 'FOREIGN', message: String(e) },
    ),
  );
}
