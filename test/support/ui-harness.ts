/**
 * DEVELOPMENT HARNESS, not part of the product: the real control server (main/daemon/control-server.ts)
 * serving the built UI (dist/renderer), with in-memory handlers that implement the contract over
 * fixture data, so the screens can be looked at and driven without a network or a keychain.
 * The co-signers are simulated: after the local user approves, the others approve, exchange
 * nonces and partial signatures on a timer, and a session ends with a placeholder signature
 * (64 bytes of a hash, NOT a real Schnorr signature). Group keys and addresses are real
 * (main/wallet/group.ts), as are the BIP39 words, a group's wallet view and a PSBT's review and
 * messages (main/session/psbt-session.ts), from PSBTs built like a watch-only wallet's
 * (test/support/psbt-fixtures.ts). A PSBT session created here keeps a null transaction (nothing is
 * signed); the completed PSBT fixture's transaction carries placeholder witnesses (NOT signatures).
 * The one real signing: the `cosigned` PSBT carries the family group's BIP373 nonces and partial
 * signatures, made with the fixture's keys, and psbt.complete finalizes it as the app does.
 *
 * With `desktop`, it answers as the desktop app: the update check runs the app's UpdateFlow over a
 * simulated release feed (nothing is downloaded or installed; installs are counted) and start at
 * login is a flag here.
 *
 *   node test/support/ui-harness.ts [--first-run] [--key-problem] [--desktop] [--step-ms 1500] [--port 0]
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { entropyToMnemonic, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HandlersOf } from '../../preload/contract-kit.ts';
import {
  events,
  requests,
  type Contact,
  type EventName,
  type Group,
  type GroupPolicy,
  type KeyInfo,
  type NodeStatus,
  type Requests,
  type SessionPath,
  type SessionSnapshot,
  type Settings,
  type SignerCardView,
} from '../../preload/contract.ts';
import { createDispatcher } from '../../main/contract-dispatch.ts';
import { createEventGate } from '../../main/event-gate.ts';
import { startControlServer, type ControlServer } from '../../main/daemon/control-server.ts';
import { CosignerError } from '../../main/errors.ts';
import { DEFAULT_SETTINGS } from '../../main/book/settings-store.ts';
import { walletHandlers } from '../../main/handlers/wallet.ts';
import { createSystemScheduler } from '../../main/system-ports.ts';
import { MemoryRecordStore } from './memory-record-store.ts';
import { networks as bitcoinNetworks } from 'bitcoinjs-lib';
import { startEsploraServer, strangerScript, TestChain, type EsploraServer } from './esplora-server.ts';
import { contactHandlers } from '../../main/handlers/contacts.ts';
import { groupHandlers } from '../../main/handlers/groups.ts';
import { psbtHandlers } from '../../main/handlers/psbt.ts';
import { sessionHandlers, type SessionService } from '../../main/handlers/sessions.ts';
import { settingsHandlers } from '../../main/handlers/settings.ts';
import { HEADLESS_NO_LOGIN_ITEM, startAtLoginHandlers } from '../../main/handlers/start-at-login.ts';
import { HEADLESS_UPDATES_OFF, updateHandlers } from '../../main/handlers/updates.ts';
import { UpdateFlow } from '../../main/desktop/updates.ts';
import { SessionIndex } from '../../main/session/session-index.ts';
import { summaryOf } from '../../main/session/session-summary.ts';
import { GroupKeysCache, intakePathPsbt, intakePsbt, reviewView, signablePsbt, SpendKeysCache } from '../../main/session/psbt-session.ts';
import { Bip373Copy } from '../../main/wallet/bip373-copy.ts';
import { describePolicyGroup, groupOutputs } from '../../main/wallet/policy-group.ts';
import type { SpendPath } from '../../main/wallet/spend-path.ts';
import { groupShareHandlers } from '../../main/handlers/groups-share.ts';
import { psbtBytes } from '../../main/wallet/psbt-import.ts';
import { makePsbtNonces, PsbtSigningBatch } from '../../main/wallet/psbt-signing.ts';
import { spendFrom } from './psbt-fixtures.ts';

const ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface UiHarnessOptions {
  /** Start with no signer key, on the first-run screen. */
  firstRun?: boolean;
  /** The keystore reports a locked keychain (with the back end's hint), as main/app.ts does. */
  keyProblem?: boolean;
  /** Delay between simulated co-signer steps; 0 turns the simulation off (screens stay as they are). */
  stepMs?: number;
  port?: number;
  staticDir?: string;
  /** Fixed "now" for the fixture's timestamps (screenshots); defaults to the real time. */
  now?: number;
  /** Answer as the desktop app (app.info mode `electron`), with an update check and start at login. */
  desktop?: boolean;
}

/** The desktop app's simulated side: what the release feed offers, and what the user asked for. */
export interface HarnessDesktop {
  /** The release the feed names (null: this is the newest). */
  latestRelease: string | null;
  downloads: number;
  installs: number;
  openAtLogin: boolean;
}

export interface UiHarness {
  readonly url: string;
  readonly server: ControlServer;
  /** The fixture's session ids, by name. */
  readonly sessionIds: Readonly<Record<FixtureSessionName, string>>;
  readonly psbts: HarnessPsbts;
  /** The Esplora server the wallet handlers ask (mainnet), over the family group's small chain. */
  readonly chain: EsploraServer;
  readonly desktop: HarnessDesktop;
  emit(event: EventName, payload: unknown): void;
  close(): Promise<void>;
}

type FixtureSessionName =
  | 'pendingFromContact'
  | 'pendingFromUnknown'
  | 'complete'
  | 'blamed'
  | 'stuck'
  | 'declined'
  | 'cancelled'
  | 'resumable'
  | 'interrupted'
  | 'inProgress'
  | 'batch'
  | 'psbtPending'
  | 'psbtInProgress'
  | 'psbtComplete';

/** The fixture's PSBTs (base64), to paste on the New request screen. */
export interface HarnessPsbts {
  /** The family group's coins, paying a stranger with change back to the group. */
  signable: string;
  /** One of the family group's coins and one of someone else's: the second input is refused. */
  refused: string;
  /** `signable` with every family signer's BIP373 public nonces and partial signatures, as another tool leaves it. */
  cosigned: string;
}

interface Person {
  name: string;
  secret: Uint8Array;
  publicKey: string;
  peerId: string;
}

function person(name: string): Person {
  const secret = sha256(utf8ToBytes(`cosigner ui harness ${name}`));
  const publicKey = bytesToHex(secp256k1.getPublicKey(secret, true));
  return { name, secret, publicKey, peerId: `12D3KooW${bytesToHex(sha256(utf8ToBytes(name))).slice(0, 44)}` };
}

function keyInfo(p: Person): KeyInfo {
  const pk = secp256k1.getPublicKey(p.secret, true);
  return { publicKey: p.publicKey, fingerprint: bytesToHex(ripemd160(sha256(pk)).slice(0, 4)) };
}

function fakeHex(label: string, bytes: number): string {
  return bytesToHex(sha256(utf8ToBytes(label)))
    .repeat(2)
    .slice(0, bytes * 2);
}

/** The back end's default (main/session/limits.ts): a session may be resumed until its fifth attempt. */
const MAX_ATTEMPTS = 5;

const isTerminal = (phase: SessionSnapshot['phase']) =>
  phase === 'COMPLETE' || phase === 'ABORTED' || phase === 'DECLINED' || phase === 'EXPIRED';

/** The flags the back end derives from a session's state (main/session/snapshot.ts), true after every change. */
function withFlags(s: SessionSnapshot): SessionSnapshot {
  const open = !isTerminal(s.phase);
  return {
    ...s,
    awaitingLocalApproval: open && s.signers.some((x) => x.isLocal && !x.approved),
    interrupted: open && s.interrupted,
    resumable: (s.phase === 'NONCE_EXCHANGE' || s.phase === 'PARTIAL_SIG_EXCHANGE') && s.attempt < MAX_ATTEMPTS,
  };
}

/** The snapshot's `spendPath` as main/session/snapshot.ts makes it, from the group's own leaves. */
function spendPathView(group: Group, path: SpendPath, signers: readonly string[]): SessionPath {
  const leaf = path.kind === 'leaf' ? groupOutputs(group).at([], group.network).leaves[path.leaf] : undefined;
  return {
    groupId: group.id,
    kind: path.kind,
    leaf: path.kind === 'leaf' ? path.leaf : null,
    leafKind: leaf?.kind ?? null,
    verifyKey: leaf ? bytesToHex(leaf.key) : group.outputKey,
    notNeeded: group.publicKeys.filter((k) => !signers.includes(k)),
  };
}

function failure(
  code: string,
  reason: string,
  blame: number[],
  reportedBy: number,
  verified = true,
): NonNullable<SessionSnapshot['failure']> {
  return { code, reason, blamedSignerIndex: blame[0] ?? null, blame, reportedBy, verified };
}

export async function startUiHarness(options: UiHarnessOptions = {}): Promise<UiHarness> {
  const stepMs = options.stepMs ?? 1500;
  const t0 = options.now ?? Date.now();
  const startedAt = Date.now();
  const now = () => (options.now === undefined ? Date.now() : options.now + (Date.now() - startedAt));
  let created = 0;

  const alice = person('alice');
  const bob = person('bob');
  const carol = person('carol');
  const dave = person('dave');

  const listeners = new Set<(event: string, payload: unknown) => void>();
  // Checked against the contract as the app's events are (main/event-gate.ts).
  const gate = createEventGate({
    events,
    deliver: (event, payload) => {
      for (const l of listeners) l(event, payload);
    },
    onInvalid: (event, detail) => console.error(`[harness] event ${event} not sent: ${detail}`),
  });
  const emit = (event: EventName, payload: unknown) => void gate.emit(event, payload);
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  let key: KeyInfo | null = options.firstRun ? null : keyInfo(alice);
  let pendingBackup: { backupId: string; words: string[] } | null = null;
  const problem = options.keyProblem
    ? {
        code: 'KEYCHAIN_UNAVAILABLE',
        message: 'OS keychain unavailable: the keychain is locked',
        hint: 'The keychain is locked. Unlock it (log in to your desktop session, or unlock the keyring in your keychain manager) and try again.',
      }
    : null;
  let settings: Settings = {
    displayName: 'Alice (desktop)',
    network: 'mainnet',
    listenAddresses: ['/ip4/0.0.0.0/tcp/0'],
    bootstrapPeers: [],
    mdns: true,
    sessionTimeoutSeconds: 3600,
    stuckSessionTimeoutSeconds: 300,
    sessionRetentionDays: 90,
    maxStoredSessions: 1000,
    allowNonDefaultSighash: false,
    chainBackends: DEFAULT_SETTINGS.chainBackends,
    walletGapLimit: 20,
    walletRefreshSeconds: 0,
  };
  const contacts = new Map<string, Contact>([
    [bob.publicKey, { publicKey: bob.publicKey, name: 'Bob', addedAt: t0 - 86_400_000 * 30 }],
    [carol.publicKey, { publicKey: carol.publicKey, name: 'Carol', addedAt: t0 - 86_400_000 * 20 }],
  ]);
  const groups = new Map<string, Group>();
  const addGroup = (name: string, keys: string[], policy?: GroupPolicy) => {
    const g = describePolicyGroup(name, keys, settings.network, policy);
    groups.set(g.id, g);
    return g;
  };
  const family = addGroup('Family savings', [alice.publicKey, bob.publicKey, carol.publicKey]);
  const project = addGroup('Project fund', [alice.publicKey, bob.publicKey, dave.publicKey]);

  const lan: SignerCardView[] = [
    {
      publicKey: bob.publicKey,
      peerId: bob.peerId,
      displayName: "Bob's laptop",
      addresses: ['/ip4/192.168.1.23/tcp/40123'],
      issuedAt: t0 - 60_000,
      source: 'lan',
    },
    {
      publicKey: dave.publicKey,
      peerId: dave.peerId,
      displayName: 'Dave',
      addresses: ['/ip4/192.168.1.42/tcp/41877'],
      issuedAt: t0 - 120_000,
      source: 'lan',
    },
  ];
  const node: NodeStatus = {
    running: true,
    peerId: alice.peerId,
    listenAddresses: ['/ip4/127.0.0.1/tcp/40111', '/ip4/192.168.1.10/tcp/40111'],
    connections: 3,
    dhtRoutingTableSize: 12,
    mdnsEnabled: true,
    rejectedFrames: {
      oversized: 0,
      malformed: 1,
      'unsupported-version': 0,
      'unknown-type': 0,
      'unexpected-type': 0,
      'bad-card': 0,
      'rate-limited': 2,
      timeout: 0,
    },
    connectedPeers: 2,
    dhtMode: 'client',
    dhtStore: { records: 4, bytes: 2_310, rollbacksRefused: 0 },
    lanPeers: lan.map((c) => ({
      peerId: c.peerId,
      addresses: c.addresses,
      connected: true,
      cards: [{ signerKey: c.publicKey, displayName: c.displayName, peerId: c.peerId, issuedAt: c.issuedAt }],
    })),
    knownSigners: 3,
    bannedPeers: 1,
    bansIssued: 1,
    transport: {
      framesDelivered: 57,
      inboxAnnouncementsDelivered: 2,
      inboxRecordsPublished: 3,
      inboxPublishFailures: 0,
      pendingDeliveries: 1,
      failedAttempts: 2,
      watchedCosigners: 3,
      nacksReceived: { 'rate-limited': 0, 'not-ready': 0 },
    },
    bans: [{ peerId: carol.peerId, until: t0 + 8 * 60_000, reasons: { malformed: 7, timeout: 3 }, signers: [carol.publicKey] }],
    inboundHandshakes: { pending: 0, refusedPerAddress: 0 },
    failures: {},
  };

  // ---------- sessions ----------
  const sessions = new Map<string, SessionSnapshot>();
  const put = (changed: SessionSnapshot) => {
    const s = withFlags(changed);
    sessions.set(s.sessionId, s);
    emit('session', s);
    return s;
  };
  const text = (t: string) => ({ hex: bytesToHex(utf8ToBytes(t)), display: t });
  const make = (
    label: string,
    group: Group,
    creator: Person,
    phase: SessionSnapshot['phase'],
    progress: { approved: string[]; nonces?: string[]; partials?: string[] },
    extra: Partial<SessionSnapshot> = {},
  ): SessionSnapshot =>
    withFlags({
      sessionId: fakeHex(`session ${label}`, 32),
      version: 1,
      phase,
      attempt: 1,
      createdAt: t0 - 600_000,
      expiresAt: t0 + 3_000_000,
      updatedAt: t0 - 60_000,
      phaseSince: t0 - 60_000,
      creator: creator.publicKey,
      isCreator: creator === alice,
      signers: group.publicKeys.map((pk, index) => ({
        index,
        publicKey: pk,
        isLocal: pk === alice.publicKey,
        approved: progress.approved.includes(pk),
        nonceReceived: progress.nonces?.includes(pk) ?? false,
        partialSignatureReceived: progress.partials?.includes(pk) ?? false,
      })),
      messages: [text(`Pay 0.0500 BTC to bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh (${label})`)],
      payloadKind: 'message',
      description: '',
      tweak: 'taproot',
      signingKey: group.outputKey,
      signatures: [],
      failure: null,
      awaitingLocalApproval: false,
      interrupted: false,
      resumable: false,
      ...extra,
    });
  const everyone = (g: Group) => [...g.publicKeys];

  // ---------- transactions (PSBT) ----------
  const groupKeys = new GroupKeysCache();
  const spendKeys = new SpendKeysCache();
  const createdPsbts = new Map<string, string>();
  const stranger = (label: string) => schnorr.getPublicKey(sha256(utf8ToBytes(`harness stranger ${label}`)));
  const familyKeys = groupKeys.of(family.publicKeys);

  // ---------- the family group's coins: a local Esplora server over a small chain ----------
  const chain = new TestChain(8, 50_000_000, bitcoinNetworks.bitcoin);
  const familyAddress = (branch: number, index: number) => familyKeys.address([branch, index], 'mainnet');
  const firstCoin = chain.pay([{ address: familyAddress(0, 0), value: 1_500_000 }]);
  chain.pay([{ address: familyAddress(0, 1), value: 640_000 }]);
  chain.mine();
  chain.pay(
    [
      { script: strangerScript('landlord'), value: 1_250_000 },
      { address: familyAddress(1, 0), value: 248_000 },
    ],
    [{ txid: firstCoin, vout: 0 }],
  );
  chain.mine();
  chain.pay([{ address: familyAddress(0, 2), value: 75_000 }]);
  const chainServer = await startEsploraServer(chain);
  settings = {
    ...settings,
    chainBackends: {
      ...settings.chainBackends,
      mainnet: { esploraUrl: chainServer.url, electrumUrl: null, explorerUrl: 'https://mempool.space' },
    },
  };
  const signableTx = spendFrom(
    familyKeys,
    [
      { path: [0, 0], amount: 1_500_000n },
      { path: [], amount: 640_000n },
    ],
    [
      { outputKey: stranger('landlord'), amount: 1_250_000n },
      { changePath: [1, 0], amount: 887_560n },
    ],
    'harness signable',
  );
  const refusedTx = spendFrom(
    familyKeys,
    [
      { path: [0, 1], amount: 500_000n },
      { outputKey: stranger('someone'), amount: 300_000n },
    ],
    [{ outputKey: stranger('shop'), amount: 795_000n }],
    'harness refused',
  );
  /** The MuSig2 rounds of the family group's three people over `signableTx`, written into its BIP373 fields. */
  const cosignedPsbt = () => {
    const { plan } = signablePsbt(signableTx.toPSBT(), familyKeys, family.network);
    const copy = new Bip373Copy(signableTx.toPSBT(), plan);
    const people = plan.participants.map((k) => [alice, bob, carol].find((p) => p.publicKey === bytesToHex(k))!);
    const made = people.map((p) => makePsbtNonces(plan, p.secret));
    const batch = new PsbtSigningBatch(
      plan.inputs,
      made.map((m) => m.publicNonces),
    );
    people.forEach((p, i) => {
      copy.setPubNonces(i, made[i]!.publicNonces);
      copy.setPartialSigs(i, batch.sign(i, p.secret, made[i]!.secretNonces));
    });
    return base64.encode(copy.toPsbt());
  };
  const psbts: HarnessPsbts = {
    signable: base64.encode(signableTx.toPSBT()),
    refused: base64.encode(refusedTx.toPSBT()),
    cosigned: cosignedPsbt(),
  };
  /** A PSBT session as the back end makes one: every signer's own intake gives its review and messages. */
  const psbtSession = (
    label: string,
    group: Group,
    creator: Person,
    phase: SessionSnapshot['phase'],
    progress: { approved: string[]; nonces?: string[]; partials?: string[] },
    psbtBase64: string,
    /** `along`: the saved group and path a request names, planned as the coordinator plans it (main/session/context.ts). */
    extra: Partial<SessionSnapshot> & { allowNonDefaultSighash?: boolean; along?: { group: Group; path: SpendPath } } = {},
  ): SessionSnapshot => {
    const { allowNonDefaultSighash = false, along, ...rest } = extra;
    const payload = { kind: 'psbt' as const, network: group.network, allowNonDefaultSighash, psbt: psbtBytes(psbtBase64) };
    const signers = group.publicKeys.map((k) => secp256k1.Point.fromHex(k).toBytes(true));
    const intake = along
      ? intakePathPsbt(
          payload,
          signers,
          { spend: spendKeys.of({ ...along.group, network: payload.network }), path: along.path },
          group.network,
        )
      : intakePsbt(payload, signers, groupKeys, group.network);
    const review = reviewView(intake.review);
    const session = make(label, group, creator, phase, progress, {
      messages: intake.plan.inputs.map((input, i) => ({
        hex: bytesToHex(input.message),
        display: `input ${input.index}: ${review.inputs[i]!.txid}:${review.inputs[i]!.vout}, ${review.inputs[i]!.amount} sat`,
      })),
      payloadKind: 'psbt',
      psbt: { review, allowNonDefaultSighash, transaction: null },
      ...rest,
    });
    createdPsbts.set(session.sessionId, base64.encode(payload.psbt));
    return session;
  };
  /** The spend with a placeholder 64-byte witness per input: the shape of a signed transaction, NOT a valid one. */
  const placeholderSigned = (tx: typeof signableTx) => {
    const signed = tx.clone();
    for (let i = 0; i < signed.inputsLength; i++)
      signed.updateInput(i, { finalScriptWitness: [hexToBytes(fakeHex(`placeholder witness ${i}`, 64))] });
    return { psbtBase64: base64.encode(signed.toPSBT()), rawTxHex: signed.hex, txid: signed.id };
  };

  const fixture: Record<FixtureSessionName, SessionSnapshot> = {
    pendingFromContact: make(
      'rent',
      family,
      bob,
      'AWAITING_APPROVAL',
      { approved: [bob.publicKey] },
      {
        description: 'Rent for March, as agreed on the phone',
        createdAt: t0 - 300_000,
        expiresAt: t0 + 3_300_000,
      },
    ),
    pendingFromUnknown: make(
      'urgent',
      project,
      dave,
      'AWAITING_APPROVAL',
      { approved: [dave.publicKey] },
      {
        description: 'URGENT: move all funds to the new wallet',
        createdAt: t0 - 120_000,
        expiresAt: t0 + 240_000,
        messages: [
          text('Move everything to bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297'),
          { hex: fakeHex('sighash', 32), display: 'Transaction input 1 sighash' },
        ],
      },
    ),
    complete: make(
      'savings',
      family,
      alice,
      'COMPLETE',
      { approved: everyone(family), nonces: everyone(family), partials: everyone(family) },
      {
        description: 'Proof of reserves for the bank',
        createdAt: t0 - 86_400_000,
        updatedAt: t0 - 86_000_000,
        expiresAt: t0 - 82_800_000,
        version: 9,
        messages: [text('I, the Family savings group, control this address on 2024-03-01.')],
        signatures: [fakeHex('signature savings', 64)],
      },
    ),
    blamed: make(
      'blamed',
      family,
      alice,
      'ABORTED',
      { approved: everyone(family), nonces: everyone(family), partials: [alice.publicKey, bob.publicKey] },
      {
        description: 'Quarterly transfer',
        createdAt: t0 - 3 * 86_400_000,
        version: 8,
        failure: failure(
          'INVALID_PARTIAL_SIGNATURE',
          'partial signature of signer 2 does not verify',
          [family.publicKeys.indexOf(carol.publicKey)],
          family.publicKeys.indexOf(bob.publicKey),
        ),
      },
    ),
    declined: make(
      'declined',
      family,
      bob,
      'DECLINED',
      { approved: [bob.publicKey, alice.publicKey] },
      {
        description: 'New roof',
        createdAt: t0 - 5 * 86_400_000,
        version: 4,
        failure: failure(
          'DECLINED',
          'Too expensive, let us talk first',
          [family.publicKeys.indexOf(carol.publicKey)],
          family.publicKeys.indexOf(carol.publicKey),
        ),
      },
    ),
    stuck: make(
      'stuck',
      family,
      bob,
      'ABORTED',
      { approved: everyone(family), nonces: [alice.publicKey, bob.publicKey] },
      {
        description: 'Insurance premium',
        createdAt: t0 - 2 * 86_400_000,
        version: 6,
        failure: failure(
          'SESSION_STUCK',
          'no progress in NONCE_EXCHANGE',
          [family.publicKeys.indexOf(carol.publicKey)],
          family.publicKeys.indexOf(alice.publicKey),
        ),
      },
    ),
    cancelled: make(
      'cancelled',
      project,
      dave,
      'ABORTED',
      { approved: everyone(project) },
      {
        description: 'Domain renewal',
        createdAt: t0 - 4 * 86_400_000,
        version: 5,
        failure: failure('ABORTED', 'Wrong amount, I will ask again', [], project.publicKeys.indexOf(dave.publicKey)),
      },
    ),
    resumable: make(
      'resumable',
      family,
      alice,
      'NONCE_EXCHANGE',
      { approved: everyone(family), nonces: [bob.publicKey, carol.publicKey] },
      {
        description: 'Car insurance',
        createdAt: t0 - 1_800_000,
        updatedAt: t0 - 1_500_000,
        phaseSince: t0 - 1_500_000,
        version: 6,
      },
    ),
    interrupted: make(
      'interrupted',
      family,
      bob,
      'PARTIAL_SIG_EXCHANGE',
      { approved: everyone(family), nonces: everyone(family), partials: [bob.publicKey] },
      {
        description: 'Electricity bill',
        createdAt: t0 - 2_400_000,
        updatedAt: t0 - 600_000,
        phaseSince: t0 - 700_000,
        version: 7,
        interrupted: true,
      },
    ),
    inProgress: make(
      'progress',
      project,
      alice,
      'NONCE_EXCHANGE',
      { approved: everyone(project), nonces: [alice.publicKey] },
      {
        description: 'Server invoice #2041',
        createdAt: t0 - 900_000,
        phaseSince: t0 - 45_000,
        version: 5,
      },
    ),
    batch: make(
      'batch',
      family,
      carol,
      'AWAITING_APPROVAL',
      { approved: [carol.publicKey, bob.publicKey] },
      {
        description: 'Consolidate the three coins into one',
        createdAt: t0 - 200_000,
        expiresAt: t0 + 6 * 3_600_000,
        payloadKind: 'batch',
        messages: [1, 2, 3].map((n) => ({
          hex: fakeHex(`batch sighash ${n}`, 32),
          display: `Input ${n} of 3: sighash (taproot key path)`,
        })),
      },
    ),
    psbtPending: psbtSession('psbt rent', family, bob, 'AWAITING_APPROVAL', { approved: [bob.publicKey] }, psbts.signable, {
      description: 'Rent for April: 0.0125 BTC to the landlord',
      createdAt: t0 - 240_000,
      expiresAt: t0 + 3_360_000,
    }),
    psbtInProgress: psbtSession(
      'psbt progress',
      family,
      alice,
      'NONCE_EXCHANGE',
      { approved: everyone(family), nonces: [alice.publicKey, bob.publicKey] },
      psbts.signable,
      {
        description: 'Rent for May',
        createdAt: t0 - 1_200_000,
        phaseSince: t0 - 30_000,
        version: 5,
      },
    ),
    psbtComplete: psbtSession(
      'psbt complete',
      family,
      alice,
      'COMPLETE',
      { approved: everyone(family), nonces: everyone(family), partials: everyone(family) },
      psbts.signable,
      {
        description: 'Rent for March',
        createdAt: t0 - 7 * 86_400_000,
        updatedAt: t0 - 7 * 86_400_000 + 600_000,
        expiresAt: t0 - 6 * 86_400_000,
        version: 9,
        signatures: [fakeHex('psbt sig 0', 64), fakeHex('psbt sig 1', 64)],
      },
    ),
  };
  fixture.psbtComplete = { ...fixture.psbtComplete, psbt: { ...fixture.psbtComplete.psbt!, transaction: placeholderSigned(signableTx) } };
  for (const s of Object.values(fixture)) sessions.set(s.sessionId, s);

  /** The simulated co-signers carry a session forward, one visible step at a time. */
  const advance = (sessionId: string) => {
    if (stepMs <= 0) return;
    later(stepMs, () => {
      const s = sessions.get(sessionId);
      if (!s || isTerminal(s.phase)) return;
      const bump = (patch: Partial<SessionSnapshot>) =>
        put({
          ...s,
          ...patch,
          version: s.version + 1,
          updatedAt: now(),
          phaseSince: patch.phase && patch.phase !== s.phase ? now() : s.phaseSince,
        });
      const next = s.signers.find((x) => !x.approved);
      if (s.phase === 'AWAITING_APPROVAL') {
        if (next === undefined) bump({ phase: 'NONCE_EXCHANGE' });
        else if (next.isLocal) return;
        else bump({ signers: s.signers.map((x) => (x === next ? { ...x, approved: true } : x)) });
      } else if (s.phase === 'NONCE_EXCHANGE') {
        if (s.signers.every((x) => x.nonceReceived)) bump({ phase: 'PARTIAL_SIG_EXCHANGE' });
        else bump({ signers: s.signers.map((x) => ({ ...x, nonceReceived: true })) });
      } else if (s.phase === 'PARTIAL_SIG_EXCHANGE') {
        if (s.signers.every((x) => x.partialSignatureReceived)) {
          bump({ phase: 'COMPLETE', signatures: s.messages.map((m) => fakeHex(`signature ${s.sessionId} ${m.hex}`, 64)) });
        } else bump({ signers: s.signers.map((x) => ({ ...x, partialSignatureReceived: true })) });
      }
      advance(sessionId);
    });
  };
  advance(fixture.inProgress.sessionId);

  const mustGet = (sessionId: string) => {
    const s = sessions.get(sessionId);
    if (!s) throw new CosignerError('UNKNOWN_SESSION', 'no such session', { sessionId });
    return s;
  };
  const requireKey = () => {
    if (!key) throw new CosignerError('KEY_NOT_FOUND', 'no signer key');
    return key;
  };
  const storeKey = (info: KeyInfo) => {
    if (key) throw new CosignerError('KEY_EXISTS', 'a signer key exists');
    key = info;
    emit('keys', { backend: 'keychain', key, problem: null });
    return info;
  };

  const mustGroup = (id: string) => {
    const group = groups.get(id);
    if (!group) throw new CosignerError('INVALID_INPUT', 'no such group');
    return group;
  };

  // The app's own wallet handlers, over the chain server the harness is given (none: not configured).
  const wallet = walletHandlers({
    group: mustGroup,
    groupKeys,
    spendKeys,
    settings: () => settings,
    store: new MemoryRecordStore(),
    fetch,
    clock: { now },
    scheduler: createSystemScheduler(),
    emit: (status) => emit('wallet', status),
  });

  /** Stands in for the coordinator behind the app's own session handlers: fixture sessions, simulated co-signers. */
  const simulated: SessionService = {
    async createSession(input) {
      const me = requireKey();
      // A request naming a group path asks the path's signers only (main/handlers/session-path.ts).
      const named = input.group === undefined ? undefined : groups.get(input.group.id);
      const group = named
        ? { ...named, publicKeys: [...input.signers] }
        : [...groups.values()].find((g) => g.publicKeys.join() === input.signers.join());
      if (!group) throw new CosignerError('INVALID_INPUT', 'no such group');
      const path = named && input.group ? { spendPath: spendPathView(named, input.group.path, input.signers) } : {};
      if (!group.publicKeys.includes(me.publicKey)) throw new CosignerError('NOT_A_SIGNER', 'you are not in this group');
      const { payload } = input;
      const times = {
        description: input.description ?? '',
        createdAt: now(),
        updatedAt: now(),
        expiresAt: now() + (input.expiresInMs ?? 3_600_000),
      };
      let session: SessionSnapshot;
      if (payload.kind === 'message') {
        const m = payload.label
          ? text(payload.label)
          : { hex: payload.message.toLowerCase(), display: `${payload.message.length / 2} bytes (hex)` };
        session = make(
          `created ${++created}`,
          group,
          alice,
          'AWAITING_APPROVAL',
          { approved: [me.publicKey] },
          { messages: [m], ...times, ...path, ...(named ? { tweak: 'path' as const } : {}) },
        );
      } else if (payload.kind === 'psbt') {
        session = psbtSession(
          `created ${++created}`,
          group,
          alice,
          'AWAITING_APPROVAL',
          { approved: [me.publicKey] },
          base64.encode(psbtBytes(payload.psbt)),
          {
            allowNonDefaultSighash: payload.allowNonDefaultSighash === true,
            ...times,
            ...path,
            ...(named && input.group ? { along: { group: named, path: input.group.path } } : {}),
          },
        );
      } else {
        throw new CosignerError('INVALID_INPUT', 'the harness makes message and PSBT sessions only');
      }
      put(session);
      advance(session.sessionId);
      return session;
    },
    async approve(sessionId) {
      const s = mustGet(sessionId);
      if (s.phase !== 'AWAITING_APPROVAL') throw new CosignerError('WRONG_PHASE', 'not awaiting approval');
      const updated = put({
        ...s,
        version: s.version + 1,
        updatedAt: now(),
        signers: s.signers.map((x) => (x.isLocal ? { ...x, approved: true } : x)),
      });
      advance(sessionId);
      return updated;
    },
    async decline(sessionId, reason = '') {
      const s = mustGet(sessionId);
      if (s.phase !== 'AWAITING_APPROVAL') throw new CosignerError('WRONG_PHASE', 'not awaiting approval');
      const localIndex = s.signers.find((x) => x.isLocal)?.index ?? 0;
      return put({
        ...s,
        version: s.version + 1,
        updatedAt: now(),
        phaseSince: now(),
        phase: 'DECLINED',
        failure: failure('DECLINED', reason, [localIndex], localIndex),
      });
    },
    async abort(sessionId, reason = 'cancelled by the user') {
      const s = mustGet(sessionId);
      if (isTerminal(s.phase)) throw new CosignerError('WRONG_PHASE', 'the session has ended');
      const localIndex = s.signers.find((x) => x.isLocal)?.index ?? 0;
      return put({
        ...s,
        version: s.version + 1,
        updatedAt: now(),
        phaseSince: now(),
        phase: 'ABORTED',
        failure: failure('ABORTED', reason, [], localIndex),
      });
    },
    async resume(sessionId) {
      const s = mustGet(sessionId);
      if (!s.resumable) throw new CosignerError('WRONG_PHASE', 'only a session in an exchange phase can be resumed');
      const updated = put({
        ...s,
        version: s.version + 1,
        attempt: s.attempt + 1,
        updatedAt: now(),
        phaseSince: now(),
        phase: 'NONCE_EXCHANGE',
        interrupted: false,
        signers: s.signers.map((x) => ({ ...x, nonceReceived: false, partialSignatureReceived: false })),
      });
      advance(sessionId);
      return updated;
    },
    // The simulated co-signers write no BIP373 fields: the copy is the PSBT as created.
    async psbt(sessionId) {
      const psbtBase64 = createdPsbts.get(mustGet(sessionId).sessionId);
      if (!psbtBase64) throw new CosignerError('WRONG_PHASE', 'not a PSBT session', { sessionId });
      return psbtBase64;
    },
    list: () => [...sessions.values()],
    async history({ cursor, limit = 50 } = {}) {
      const index = new SessionIndex();
      for (const s of sessions.values()) index.set({ ...summaryOf(s), localKey: alice.publicKey });
      return index.page(alice.publicKey, cursor, limit);
    },
    async get(sessionId) {
      return sessions.get(sessionId);
    },
  };

  const desktop: HarnessDesktop = { latestRelease: '0.2.0', downloads: 0, installs: 0, openAtLogin: false };
  const updates = new UpdateFlow(
    options.desktop
      ? {
          check: async () => (desktop.latestRelease ? { version: desktop.latestRelease } : null),
          download: async () => void desktop.downloads++,
          quitAndInstall: async () => void desktop.installs++,
        }
      : undefined,
    (state) => emit('updates', state),
    HEADLESS_UPDATES_OFF,
  );

  // The app's own handlers (main/handlers/) over fixture ports, sessions over the simulation above;
  // keys and the node are fixtures here.
  const handlers: HandlersOf<Requests> = {
    ...wallet.handlers,
    ...contactHandlers({
      contacts: {
        list: () => [...contacts.values()],
        nameOf: (publicKey) => contacts.get(publicKey)?.name,
        save: async (publicKey, name) => {
          const c = { publicKey, name, addedAt: now() };
          contacts.set(publicKey, c);
          return c;
        },
        remove: async (publicKey) => void contacts.delete(publicKey),
      },
      ownKey: async () => key?.publicKey ?? null,
      lanKeys: () => lan.map((c) => c.publicKey),
      onSaved: () => undefined,
    }),
    ...groupHandlers({
      groups: {
        list: () => [...groups.values()],
        get: mustGroup,
        save: async ({ name, publicKeys, policy }) => addGroup(name, publicKeys, policy),
        remove: async (id) => void groups.delete(id),
      },
      onSaved: () => undefined,
    }),
    ...psbtHandlers({
      group: (id) => mustGroup(id),
      groupKeys,
      spendKeys,
      localAllowsNonDefaultSighash: () => settings.allowNonDefaultSighash,
      signer: async () => ({ secretKey: () => alice.secret }),
    }),
    ...settingsHandlers({
      settings: {
        get: () => settings,
        update: async (changes) => {
          settings = { ...settings, ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) };
          return settings;
        },
      },
    }),
    ...updateHandlers({ flow: updates }),
    ...startAtLoginHandlers({
      port: options.desktop
        ? {
            get: () => desktop.openAtLogin,
            set: (open) => void (desktop.openAtLogin = open),
          }
        : undefined,
      unavailable: HEADLESS_NO_LOGIN_ITEM,
    }),
    'app.info': async () => ({
      version: '0.1.0-harness',
      mode: options.desktop ? 'electron' : 'headless',
      dataDir: '/tmp/cosigner-ui-harness',
      peerId: alice.peerId,
    }),
    'keys.status': async () => ({ backend: 'keychain', key, problem }),
    'keys.beginCreate': async () => {
      if (key) throw new CosignerError('KEY_EXISTS', 'a signer key exists');
      const words = entropyToMnemonic(sha256(utf8ToBytes(`harness mnemonic ${now()}`)), wordlist).split(' ');
      pendingBackup = { backupId: fakeHex(`backup ${now()}`, 16), words };
      return { ...pendingBackup, key: keyInfo(alice) };
    },
    'keys.confirmBackup': async ({ backupId, mnemonic }) => {
      if (!pendingBackup || pendingBackup.backupId !== backupId) throw new CosignerError('INVALID_INPUT', 'no key creation in progress');
      const words = mnemonic.trim().toLowerCase().split(/\s+/);
      const wrong = pendingBackup.words.findIndex((w, i) => words[i] !== w);
      if (wrong >= 0) throw new CosignerError('CONFIRMATION_MISMATCH', 'words differ', { what: 'backup-words', position: wrong + 1 });
      pendingBackup = null;
      return storeKey(keyInfo(alice));
    },
    'keys.importMnemonic': async ({ mnemonic }) => {
      if (!validateMnemonic(mnemonic.trim().toLowerCase().split(/\s+/).join(' '), wordlist)) {
        throw new CosignerError('INVALID_MNEMONIC', 'not a valid BIP39 phrase');
      }
      return storeKey(keyInfo(alice));
    },
    'keys.importSecret': async () => storeKey(keyInfo(alice)),
    'keys.useFile': async () => {
      throw new CosignerError('INVALID_INPUT', 'the keystore is chosen at start in the headless mode');
    },
    'keys.cancelCreate': async () => {
      pendingBackup = null;
      return { ok: true };
    },
    'keys.delete': async ({ fingerprint }) => {
      if (requireKey().fingerprint !== fingerprint)
        throw new CosignerError('CONFIRMATION_MISMATCH', 'wrong fingerprint', { what: 'fingerprint' });
      key = null;
      emit('keys', { backend: 'keychain', key, problem: null });
      return { ok: true };
    },
    'node.status': async () => node,
    'health.get': async () => {
      const byPhase: Record<string, number> = {};
      for (const s of sessions.values()) byPhase[s.phase] = (byPhase[s.phase] ?? 0) + 1;
      const active = [...sessions.values()].filter((s) => !isTerminal(s.phase));
      return {
        node,
        coordinator: {
          running: true,
          sessionsByPhase: byPhase,
          oldestSessionAgeMs: active.length ? now() - Math.min(...active.map((s) => s.createdAt)) : null,
          pendingApprovals: active.filter((s) => s.awaitingLocalApproval).length,
          lastCleanupAt: now() - 30_000,
          rejectedMessages: { REPLAYED: 3, STALE_ATTEMPT: 1 },
          orphanedFrames: 0,
          trackedPeers: 3,
          sendFailures: 2,
          storageFailures: 0,
          corruptRecords: 0,
          listenerErrors: 0,
          sweepFailures: 0,
          storedSessions: sessions.size,
        },
        invalidEvents: gate.invalidEvents,
        failures: {},
      };
    },
    'peers.lan': async () => lan,
    'peers.lookup': async ({ publicKey }) => lan.find((c) => c.publicKey === publicKey) ?? null,
    // As main/app.ts: a session names its group path, so any saved group can be asked.
    ...sessionHandlers({ group: mustGroup, coordinator: () => simulated, running: () => simulated }),
    ...groupShareHandlers({
      network: () => settings.network,
      groups: {
        list: () => [...groups.values()],
        get: mustGroup,
        has: (id) => groups.has(id),
        save: async ({ name, publicKeys, policy }) => addGroup(name, publicKeys, policy),
      },
      contacts: {
        nameOf: (publicKey) => contacts.get(publicKey)?.name,
        save: async (publicKey, name) => contacts.set(publicKey, { publicKey, name, addedAt: now() }),
      },
      ownKey: async () => key?.publicKey ?? null,
      ownName: () => settings.displayName,
      saved: () => undefined,
    }),
  };

  const server = await startControlServer({
    dispatch: createDispatcher(requests, handlers, (method, error) => console.error(`[harness] ${method} failed:`, error)),
    subscribeEvents(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    staticDir: options.staticDir ?? path.join(ROOT, 'dist/renderer'),
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  const sessionIds = Object.fromEntries(Object.entries(fixture).map(([k, s]) => [k, s.sessionId])) as Record<FixtureSessionName, string>;
  return {
    url: server.url,
    server,
    sessionIds,
    psbts,
    chain: chainServer,
    desktop,
    emit,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      wallet.stop();
      await chainServer.close();
      listeners.clear();
      await server.close();
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const harness = await startUiHarness({
    firstRun: process.argv.includes('--first-run'),
    keyProblem: process.argv.includes('--key-problem'),
    desktop: process.argv.includes('--desktop'),
    stepMs: Number(arg('--step-ms') ?? 1500),
    port: Number(arg('--port') ?? 0),
  });
  console.log(`UI harness (fixture data, simulated co-signers): ${harness.url}`);
  const stop = () => void harness.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
