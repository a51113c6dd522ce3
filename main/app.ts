/**
 * The composition root: builds every service from a config and implements the contract's handlers
 * over them. The headless daemon and the Electron shell both run exactly this.
 *
 * Life cycle: the keystore, the books and the settings open at once; the signing stack (libp2p node
 * + session coordinator) needs the signer key, so it starts when a key exists — at start-up, or as
 * soon as the user creates or imports one — and stops when the key is deleted.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import path from 'node:path';
import type { HandlersOf } from '../preload/contract-kit.ts';
import { events, type EventName, type KeyStatus, type Requests, type SessionSnapshot, type Settings } from '../preload/contract.ts';
import { ContactBook } from './book/contact-book.ts';
import { checkLanContact } from './book/lan-contact.ts';
import { GroupBook } from './book/group-book.ts';
import { SettingsStore } from './book/settings-store.ts';
import { CosignerError, isCosignerError } from './errors.ts';
import { createEventGate } from './event-gate.ts';
import { groupWallet } from './group-wallet.ts';
import { groupShareHandlers } from './handlers/groups-share.ts';
import { openKeystore, type KeyManager, type KeyInfo } from './keys/index.ts';
import { notifyAll } from './notify.ts';
import { completeGroupPsbt, GroupKeysCache, reviewFor, reviewView } from './session/psbt-session.ts';
import { SigningStack } from './signing-stack.ts';
import { FileRecordStore } from './storage/record-store.ts';
import { createSystemScheduler, systemClock, systemRandom } from './system-ports.ts';

export interface AppConfig {
  mode: 'electron' | 'headless';
  dataDir: string;
  keystore: { kind: 'keychain' } | { kind: 'file'; passphrase: string };
  /** Keys of several profiles can share one keychain; each data dir uses one. */
  profile?: string;
  /** Settings for this run only, over the saved ones (CLI flags, tests). */
  overrides?: Partial<Settings>;
  /** Headless co-signers only, off by default: approve every valid request addressed to us. */
  autoApprove?: boolean;
  /** How often the node status is pushed to the UI. */
  statusIntervalMs?: number;
  version?: string;
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
  const keys: KeyManager = openKeystore({
    kind: config.keystore.kind,
    profile,
    dataDir: config.dataDir,
    ...(config.keystore.kind === 'file' ? { passphrase: config.keystore.passphrase } : {}),
  });

  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  const gate = createEventGate({
    events,
    deliver: (event, payload) => notifyAll(listeners, event, payload),
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
        contacts: () => contacts.list().map((c) => c.publicKey),
        clock,
        scheduler,
        random: systemRandom,
        autoApprove: config.autoApprove === true,
        // Read at each intake, so a change of the setting applies at once.
        allowNonDefaultSighash: () => effective().allowNonDefaultSighash,
        groupKeys,
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
    const backend = config.keystore.kind;
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

  async function withKeyCreated<T extends KeyInfo>(made: Promise<T>) {
    const info = await made;
    await afterKeyChange();
    await startStack();
    return keyView(info);
  }

  function need(): SigningStack {
    if (!stack) throw new CosignerError('KEY_NOT_FOUND', 'set up your signer key first');
    return stack;
  }

  const pending = new Map<string, import('./keys/index.ts').PendingKey>();

  const handlers: HandlersOf<Requests> = {
    'app.info': async () => ({
      version: config.version ?? '0.0.0',
      mode: config.mode,
      dataDir: config.dataDir,
      peerId: await keys.peerIdentity().then(
        (identity) => identity.peerId,
        () => null,
      ),
    }),

    'keys.status': keyStatus,
    'keys.beginCreate': async () => {
      const p = await keys.beginCreate();
      pending.clear();
      pending.set(p.id, p);
      return { backupId: p.id, words: p.words(), key: keyView({ publicKey: p.publicKey, fingerprint: p.fingerprint }) };
    },
    'keys.confirmBackup': async ({ backupId, mnemonic }) => {
      const info = await withKeyCreated(keys.confirmBackup(backupId, mnemonic));
      pending.delete(backupId);
      return info;
    },
    'keys.cancelCreate': async () => {
      await keys.cancelCreate();
      pending.clear();
      return { ok: true as const };
    },
    'keys.importMnemonic': async ({ mnemonic }) => withKeyCreated(keys.importMnemonic(mnemonic)),
    'keys.importSecret': async ({ secretHex }) => withKeyCreated(keys.importSecretHex(secretHex)),
    'keys.delete': async ({ fingerprint }) => {
      const running = stack;
      stack = undefined;
      await running?.stop();
      await keys.delete(fingerprint);
      await afterKeyChange();
      return { ok: true as const };
    },

    'node.status': async () => need().nodeStatus(),
    'health.get': async () => ({ ...need().health(), invalidEvents: gate.invalidEvents }),
    'peers.lan': async () => (stack ? stack.lanPeers() : []),
    'peers.lookup': async ({ publicKey }) => need().lookup(publicKey),

    'contacts.list': async () => contacts.list(),
    'contacts.save': async ({ publicKey, name, safetyCode }) => {
      checkLanContact({
        ownKey: (await keyStatus()).key?.publicKey ?? null,
        publicKey,
        lanKeys: stack ? stack.lanPeers().map((card) => card.publicKey) : [],
        alreadySaved: contacts.nameOf(publicKey) !== undefined,
        confirmedCode: safetyCode,
      });
      const contact = await contacts.save(publicKey, name);
      stack?.pinContact(publicKey);
      return contact;
    },
    'contacts.remove': async ({ publicKey }) => {
      await contacts.remove(publicKey);
      return { ok: true as const };
    },

    'groups.list': async () => groups.list(),
    'groups.save': async (input) => {
      const group = await groups.save(input);
      stack?.watchCosigners(group.publicKeys);
      return group;
    },
    'groups.remove': async ({ id }) => {
      await groups.remove(id);
      return { ok: true as const };
    },
    'groups.wallet': async ({ id }) => groupWallet(groups.get(id)),
    ...groupShareHandlers({
      network: () => effective().network,
      groups,
      contacts,
      ownKey: async () => (await keyStatus()).key?.publicKey ?? null,
      ownName: () => effective().displayName,
      saved: (group) => stack?.watchCosigners(group.publicKeys),
    }),

    'psbt.review': async ({ groupId, psbt, allowNonDefaultSighash }) => {
      const group = groups.forSigning(groupId);
      const localAllowsNonDefaultSighash = effective().allowNonDefaultSighash;
      return reviewView(reviewFor(psbt, groupKeys.of(group.publicKeys), group.network, { allowNonDefaultSighash, localAllowsNonDefaultSighash }).review);
    },
    // The finalizer of a PSBT another BIP373 tool co-signed: public data only, so it needs neither
    // the signer key nor the network (it works with the signing stack stopped).
    'psbt.complete': async ({ groupId, psbt, allowNonDefaultSighash }) => {
      const group = groups.forSigning(groupId);
      const localAllowsNonDefaultSighash = effective().allowNonDefaultSighash;
      return completeGroupPsbt(psbt, groupKeys.of(group.publicKeys), group.network, { allowNonDefaultSighash, localAllowsNonDefaultSighash });
    },

    'sessions.create': async ({ groupId, message, description, expiresInSeconds }) => {
      const group = groups.forSigning(groupId);
      const bytes = message.kind === 'text' ? new TextEncoder().encode(message.text) : hexToBytes(message.hex.toLowerCase());
      return need().coordinator.createSession({
        signers: group.publicKeys,
        payload: { kind: 'message', message: bytesToHex(bytes), label: message.kind === 'text' ? message.text : '' },
        description,
        tweak: 'taproot',
        expiresInMs: expiresInSeconds * 1000,
      });
    },
    'sessions.createPsbt': async ({ groupId, psbt, description, expiresInSeconds, allowNonDefaultSighash }) => {
      const group = groups.forSigning(groupId);
      return need().coordinator.createSession({
        signers: group.publicKeys,
        payload: { kind: 'psbt', psbt, network: group.network, allowNonDefaultSighash },
        description,
        tweak: 'taproot',
        expiresInMs: expiresInSeconds * 1000,
      });
    },
    'sessions.approve': async ({ sessionId }) => need().coordinator.approve(sessionId),
    'sessions.decline': async ({ sessionId, reason }) => need().coordinator.decline(sessionId, reason),
    'sessions.abort': async ({ sessionId, reason }) => need().coordinator.abort(sessionId, reason || undefined),
    'sessions.resume': async ({ sessionId }) => need().coordinator.resume(sessionId),
    'sessions.psbt': async ({ sessionId }) => ({ psbtBase64: await need().coordinator.psbt(sessionId) }),
    'sessions.list': async () => (stack ? stack.coordinator.list() : []),
    'sessions.history': async ({ cursor, limit }) => (stack ? stack.coordinator.history({ cursor, limit }) : { sessions: [], next: null }),
    'sessions.get': async ({ sessionId }) => {
      const s = await need().coordinator.get(sessionId);
      if (!s) throw new CosignerError('UNKNOWN_SESSION', 'no such session', { sessionId });
      return s;
    },

    'settings.get': async () => settings.get(),
    'settings.set': async (patch) => settings.update(patch),
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
      const running = stack;
      stack = undefined;
      await running?.stop();
      listeners.clear();
    },
  };
}

function keyView(info: { publicKey: Uint8Array | string; fingerprint: string }): { publicKey: string; fingerprint: string } {
  return {
    publicKey: typeof info.publicKey === 'string' ? info.publicKey : bytesToHex(info.publicKey),
    fingerprint: info.fingerprint,
  };
}
