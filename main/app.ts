/**
 * The composition root: builds every service from a config and implements the contract's handlers
 * over them. The headless daemon and the Electron shell both run exactly this.
 *
 * Life cycle: the keystore, the books and the settings open at once; the signing stack (libp2p node
 * + session coordinator) needs the signer key, so it starts when a key exists — at start-up, or as
 * soon as the user creates or imports one — and stops when the key is deleted.
 */
import path from 'node:path';
import type { HandlersOf } from '../preload/contract-kit.ts';
import { events, type EventName, type KeyStatus, type Requests, type Settings } from '../preload/contract.ts';
import { ContactBook } from './book/contact-book.ts';
import { GroupBook } from './book/group-book.ts';
import { SettingsStore } from './book/settings-store.ts';
import { CosignerError, isCosignerError } from './errors.ts';
import { createEventGate } from './event-gate.ts';
import { contactHandlers } from './handlers/contacts.ts';
import { groupHandlers } from './handlers/groups.ts';
import { groupShareHandlers } from './handlers/groups-share.ts';
import { keyHandlers, keyView } from './handlers/keys.ts';
import { nodeHandlers } from './handlers/node.ts';
import { psbtHandlers } from './handlers/psbt.ts';
import { sessionHandlers } from './handlers/sessions.ts';
import { settingsHandlers } from './handlers/settings.ts';
import { HEADLESS_NO_LOGIN_ITEM, startAtLoginHandlers, type StartAtLoginPort } from './handlers/start-at-login.ts';
import { HEADLESS_UPDATES_OFF, updateHandlers } from './handlers/updates.ts';
import { walletHandlers } from './handlers/wallet.ts';
import { UpdateFlow, type UpdaterPort } from './desktop/updates.ts';
import { keyFilePath, KeyManager, openKeystore } from './keys/index.ts';
import type { SwitchableBackend } from './keys/switchable-backend.ts';
import { useKeyFile } from './keys/use-key-file.ts';
import { notifyAll } from './notify.ts';
import { FailureCounts } from './failure-counts.ts';
import { GroupKeysCache, SpendKeysCache } from './session/psbt-session.ts';
import { SigningStack } from './signing-stack.ts';
import { FileRecordStore } from './storage/record-store.ts';
import { createSystemScheduler, systemClock, systemRandom } from './system-ports.ts';

export interface AppConfig {
  mode: 'electron' | 'headless';
  dataDir: string;
  keystore:
    | { kind: 'keychain' }
    | { kind: 'file'; passphrase: string }
    /** The desktop app: keychain or key file, chosen while it runs (keys.useFile). */
    | { kind: 'switchable'; backend: SwitchableBackend };
  /** Keys of several profiles can share one keychain; each data dir uses one. */
  profile?: string;
  /** Settings for this run only, over the saved ones (CLI flags, tests). */
  overrides?: Partial<Settings>;
  /** Headless co-signers only, off by default: approve every valid request addressed to us. */
  autoApprove?: boolean;
  /** How often the node status is pushed to the UI. */
  statusIntervalMs?: number;
  version?: string;
  /** The desktop app's updater and login item (main/electron/); the headless mode has neither. */
  desktop?: {
    /** electron-updater, or why this copy cannot update itself (main/desktop/updates.ts whyNoUpdates). */
    updates: { port: UpdaterPort } | { off: string };
    startAtLogin: StartAtLoginPort;
  };
}

export interface Services {
  readonly handlers: HandlersOf<Requests>;
  subscribeEvents(listener: (event: EventName, payload: unknown) => void): () => void;
  /** Resolves when the signing stack runs (immediately if it already does). */
  signing(): Promise<SigningStack>;
  stop(): Promise<void>;
}

const MAX_EVENT_LISTENERS = 64;

export async function startServices(config: AppConfig): Promise<Services> {
  const profile = config.profile ?? 'default';
  const clock = systemClock;
  const scheduler = createSystemScheduler();
  const appStore = await FileRecordStore.open(path.join(config.dataDir, 'app'));
  const settings = await SettingsStore.open(appStore);
  const effective = (): Settings => ({ ...settings.get(), ...config.overrides });
  const contacts = await ContactBook.open(appStore, clock);
  const groups = await GroupBook.open(appStore, effective().network);
  // One GroupKeys per group, shared by reviews, wallet views and the coordinator's intake.
  const groupKeys = new GroupKeysCache();
  // The same for groups with a policy: outputs and path keys at BIP328 derivations.
  const spendKeys = new SpendKeysCache();
  const keystore = config.keystore;
  const keys: KeyManager =
    keystore.kind === 'switchable'
      ? new KeyManager({ backend: keystore.backend, profile })
      : openKeystore({
          kind: keystore.kind,
          profile,
          dataDir: config.dataDir,
          ...(keystore.kind === 'file' ? { passphrase: keystore.passphrase } : {}),
        });

  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  const failures = new FailureCounts();
  const gate = createEventGate({
    events,
    deliver: (event, payload) => notifyAll(listeners, (error) => failures.record(`event listener (${event})`, error), event, payload),
    onInvalid: (event, detail) => console.error(`event ${event} not sent: outside the contract (${detail})`),
  });
  const emit = (event: EventName, payload: unknown) => void gate.emit(event, payload);

  let stack: SigningStack | undefined;
  let starting: Promise<SigningStack> | undefined;
  const waiters: ((s: SigningStack) => void)[] = [];

  async function startStack(): Promise<SigningStack> {
    if (stack) return stack;
    starting ??= (async () => {
      const s = await SigningStack.start({
        keys,
        dataDir: config.dataDir,
        settings: effective(),
        cosigners: () => groups.list().flatMap((g) => g.publicKeys),
        knownGroup: (signers) => groups.knows(signers),
        groupById: (id) => (groups.has(id) ? groups.get(id) : undefined),
        contacts: () => contacts.list().map((c) => c.publicKey),
        clock,
        scheduler,
        random: systemRandom,
        autoApprove: config.autoApprove === true,
        // Read at each intake, so a change of the setting applies at once.
        allowNonDefaultSighash: () => effective().allowNonDefaultSighash,
        groupKeys,
        spendKeys,
        emit,
      });
      stack = s;
      for (const w of waiters.splice(0)) w(s);
      return s;
    })().finally(() => {
      starting = undefined;
    });
    return starting;
  }

  async function keyStatus(): Promise<KeyStatus> {
    const backend = keystore.kind === 'switchable' ? keystore.backend.current : keystore.kind;
    try {
      const info = await keys.info();
      return { backend, key: info ? keyView(info) : null, problem: null };
    } catch (e) {
      if (isCosignerError(e)) {
        const hint = typeof e.context.hint === 'string' ? e.context.hint : null;
        return { backend, key: null, problem: { code: e.code, message: e.message, hint } };
      }
      throw e;
    }
  }

  async function afterKeyChange(): Promise<void> {
    emit('keys', await keyStatus());
  }

  async function stopStack(): Promise<void> {
    const running = stack;
    stack = undefined;
    await running?.stop();
  }

  function need(): SigningStack {
    if (!stack) throw new CosignerError('KEY_NOT_FOUND', 'set up your signer key first');
    return stack;
  }

  const wallet = walletHandlers({
    group: (id) => groups.get(id),
    groupKeys,
    spendKeys,
    settings: effective,
    store: appStore,
    fetch,
    clock,
    scheduler,
    emit: (status) => emit('wallet', status),
  });

  const updateSource = config.desktop?.updates;
  const updates = new UpdateFlow(
    updateSource && 'port' in updateSource ? updateSource.port : undefined,
    (state) => emit('updates', state),
    updateSource && 'off' in updateSource ? updateSource.off : HEADLESS_UPDATES_OFF,
  );

  // One line per area of the contract (main/handlers/); a missing handler is a type error here.
  const handlers: HandlersOf<Requests> = {
    ...nodeHandlers({
      info: { version: config.version ?? '0.0.0', mode: config.mode, dataDir: config.dataDir },
      peerId: () =>
        keys.peerIdentity().then(
          (identity) => identity.peerId,
          () => null,
        ),
      stack: need,
      running: () => stack,
      invalidEvents: () => gate.invalidEvents,
      failures: () => failures.snapshot(),
    }),
    ...keyHandlers({
      keys,
      keyStatus,
      afterKeyChange,
      startStack,
      stopStack,
      useFile: async (passphrase) => {
        if (keystore.kind !== 'switchable')
          throw new CosignerError('INVALID_INPUT', 'the keystore is chosen at start in the headless mode');
        await useKeyFile({ backend: keystore.backend, keys, path: keyFilePath(config.dataDir, profile), passphrase });
      },
    }),
    ...contactHandlers({
      contacts,
      ownKey: async () => (await keyStatus()).key?.publicKey ?? null,
      lanKeys: () => (stack ? stack.lanPeers().map((card) => card.publicKey) : []),
      onSaved: (publicKey) => stack?.pinContact(publicKey),
    }),
    ...groupHandlers({ groups, onSaved: (group) => stack?.watchCosigners(group.publicKeys) }),
    ...groupShareHandlers({
      network: () => effective().network,
      groups,
      contacts,
      ownKey: async () => (await keyStatus()).key?.publicKey ?? null,
      ownName: () => effective().displayName,
      saved: (group) => stack?.watchCosigners(group.publicKeys),
    }),
    ...psbtHandlers({
      group: (id) => groups.get(id),
      groupKeys,
      localAllowsNonDefaultSighash: () => effective().allowNonDefaultSighash,
      spendKeys,
      signer: () => keys.loadSigner(),
    }),
    // A session names the group's path (its signers and keys recomputed by every node), so any saved
    // group can be asked; a PSBT over a tree is refused by the PSBT intake until its plan signs it.
    ...sessionHandlers({ group: (id) => groups.get(id), coordinator: () => need().coordinator, running: () => stack?.coordinator }),
    ...wallet.handlers,
    ...settingsHandlers({ settings }),
    ...updateHandlers({ flow: updates }),
    ...startAtLoginHandlers({ port: config.desktop?.startAtLogin, unavailable: HEADLESS_NO_LOGIN_ITEM }),
  };

  if ((await keyStatus()).key) await startStack();

  return {
    handlers,
    subscribeEvents(listener) {
      if (listeners.size >= MAX_EVENT_LISTENERS) throw new CosignerError('LIMIT_REACHED', 'too many event listeners');
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    signing() {
      if (stack) return Promise.resolve(stack);
      return new Promise((resolve) => waiters.push(resolve));
    },
    async stop() {
      wallet.stop();
      await stopStack();
      listeners.clear();
    },
  };
}
