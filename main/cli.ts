/**
 * The `cosigner` command. `cosigner serve` runs the headless co-signer: keystore, node and
 * coordinator on a data directory, the UI and the control API on 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { requests } from '../preload/contract.ts';
import { startServices, type AppConfig } from './app.ts';
import { createDispatcher } from './contract-dispatch.ts';
import { startControlServer } from './daemon/control-server.ts';
import { defaultDataDir } from './data-dir.ts';
import { isCosignerError } from './errors.ts';
import { readPassphrase } from './keys/index.ts';
import { relay, RELAY_USAGE } from './relay-command.ts';

const USAGE = `Usage: cosigner serve [options]

Runs Cosigner without a window: the UI and the control API are served on 127.0.0.1.

Options:
  --data-dir DIR        where records are kept (default: ${defaultDataDir()})
  --keystore KIND       keychain (default: the OS keychain) or file (a passphrase-encrypted key
                        file in the data dir, for servers without a keychain; the passphrase comes
                        from COSIGNER_KEYSTORE_PASSPHRASE or a prompt)
  --profile NAME        which key of the keychain to use (default: default); one per data dir
  --port N              control API port (default: a free port)
  --listen ADDR         libp2p listen multiaddr (repeatable; default from settings)
  --bootstrap ADDR      bootstrap peer multiaddr with /p2p/<peer id> (repeatable)
  --relay ADDR          relay to be reachable through, from \`cosigner relay\` (repeatable)
  --no-upnp             do not ask the home router for a port mapping
  --no-public-network   keep to the LAN and my own relays: do not meet co-signers through the public
                        libp2p network (IPFS Amino DHT and its relays; on by default for mainnet)
  --public-bootstrap ADDR  the public network's bootstrap peers instead of libp2p's (repeatable; turns
                        the public network on for any --network)
  --no-mdns             do not look for co-signers on the LAN
  --display-name NAME   name shown to co-signers on your signer card
  --network NET         mainnet, testnet, signet or regtest (addresses shown)
  --auto-approve        approve every valid request addressed to this key, without asking
                        (unattended co-signers only; off by default)
  --static-dir DIR      the built UI (default: dist/renderer)
`;

const root = path.resolve(import.meta.dirname, '..');

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      keystore: { type: 'string', default: 'keychain' },
      profile: { type: 'string', default: 'default' },
      port: { type: 'string' },
      listen: { type: 'string', multiple: true },
      bootstrap: { type: 'string', multiple: true },
      relay: { type: 'string', multiple: true },
      'no-upnp': { type: 'boolean', default: false },
      'no-public-network': { type: 'boolean', default: false },
      'public-bootstrap': { type: 'string', multiple: true },
      'no-mdns': { type: 'boolean', default: false },
      'display-name': { type: 'string' },
      network: { type: 'string' },
      'auto-approve': { type: 'boolean', default: false },
      'static-dir': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.keystore !== 'keychain' && values.keystore !== 'file') {
    throw new Error(`--keystore must be keychain or file, not ${values.keystore}`);
  }
  const network = values.network;
  if (network !== undefined && !['mainnet', 'testnet', 'signet', 'regtest'].includes(network)) {
    throw new Error(`--network must be mainnet, testnet, signet or regtest`);
  }
  const dataDir = path.resolve(values['data-dir'] ?? defaultDataDir());
  const overrides: AppConfig['overrides'] = {
    ...(values.listen ? { listenAddresses: values.listen } : {}),
    ...(values.bootstrap ? { bootstrapPeers: values.bootstrap } : {}),
    ...(values['no-mdns'] ? { mdns: false } : {}),
    ...(values.relay ? { relays: values.relay } : {}),
    ...(values['no-upnp'] ? { upnp: false } : {}),
    ...(values['public-bootstrap'] ? { publicBootstrap: values['public-bootstrap'], publicNetwork: true } : {}),
    ...(values['no-public-network'] ? { publicNetwork: false } : {}),
    ...(values['display-name'] !== undefined ? { displayName: values['display-name'] } : {}),
    ...(network !== undefined ? { network: network as 'mainnet' } : {}),
  };
  const keystore: AppConfig['keystore'] =
    values.keystore === 'file' ? { kind: 'file', passphrase: await readPassphrase({ confirm: false }) } : { kind: 'keychain' };
  if (keystore.kind === 'file') {
    console.log('Keystore: passphrase-encrypted file in the data directory (no OS keychain).');
  }

  const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const services = await startServices({
    mode: 'headless',
    dataDir,
    profile: values.profile,
    keystore,
    overrides,
    autoApprove: values['auto-approve'],
    version,
  });
  if (values['auto-approve']) console.log('Auto-approve is ON: every valid request addressed to this key is signed without asking.');
  const dispatch = createDispatcher(requests, services.handlers, (method, error) => {
    console.error(`request ${method} failed:`, error);
  });
  const server = await startControlServer({
    dispatch,
    subscribeEvents: services.subscribeEvents,
    staticDir: path.resolve(values['static-dir'] ?? path.join(root, 'dist', 'renderer')),
    ...(values.port !== undefined ? { port: Number(values.port) } : {}),
  });
  const info = await services.handlers['app.info']({});
  console.log(`Data directory: ${dataDir}`);
  console.log(`Peer id: ${info.peerId}`);
  console.log(`Cosigner is running. Open: ${server.url}`);
  void services.signing().then(async (stack) => {
    console.log(`Node listening on: ${stack.nodeStatus().listenAddresses.join(' ')}`);
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping (sessions are saved)...`);
    await server.close();
    await services.stop();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'serve') return serve(rest);
  if (command === 'relay') return relay(rest);
  process.stdout.write(USAGE + '\n' + RELAY_USAGE);
  if (command !== undefined && command !== '--help' && command !== 'help') process.exitCode = 2;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (isCosignerError(error)) {
    console.error(`cosigner: ${error.message} [${error.code}]`);
    const hint = error.context.hint;
    if (typeof hint === 'string') console.error(hint);
  } else {
    console.error(`cosigner: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
