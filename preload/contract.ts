/**
 * The contract between Cosigner's back end and its UI: every request with its argument and result
 * schemas, every event with its payload schema. The Electron IPC bridge, the preload script, the
 * daemon's WebSocket control API and the renderer's clients are all derived from this one object,
 * so a new request is one entry here. No Node or Electron API in this file.
 */
import { z } from 'zod';
import { request } from './contract-kit.ts';
import type { BridgeOf } from './contract-kit.ts';
import { SAFETY_CODE_PATTERN } from './safety-code.ts';
import { ERROR_CODES } from './error-codes.ts';

// ---------- primitives ----------

const hex = (bytes: number) =>
  z
    .string()
    .length(bytes * 2)
    .regex(/^[0-9a-f]*$/, 'lower-case hex');
export const PublicKeyHex = hex(33).regex(/^0[23]/, 'a compressed public key starts with 02 or 03');
export const XOnlyKeyHex = hex(32);
export const SessionIdHex = hex(32);
export const SignatureHex = hex(64);
const Name = z.string().trim().min(1).max(64);
const Millis = z.number().int().nonnegative();
const Empty = z.object({}).strict();
const Ok = z.object({ ok: z.literal(true) });

/** What every signing request carries besides what is signed. */
const RequestMeta = {
  /** Short description shown to every co-signer next to what is signed. */
  description: z.string().max(280).default(''),
  /** Seconds until the request expires (1 minute to 7 days). */
  expiresInSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(3600),
};

export const BitcoinNetwork = z.enum(['mainnet', 'testnet', 'signet', 'regtest']);
export type BitcoinNetwork = z.infer<typeof BitcoinNetwork>;

// ---------- keys ----------

export const KeyInfo = z.object({
  publicKey: PublicKeyHex,
  /** First 4 bytes of hash160(public key), hex: short enough to read aloud. */
  fingerprint: hex(4),
});
export type KeyInfo = z.infer<typeof KeyInfo>;

export const KeyStatus = z.object({
  backend: z.enum(['keychain', 'file']),
  key: KeyInfo.nullable(),
  /** Set when the keystore cannot be used (locked or missing keychain): what happened and what to do. */
  problem: z.object({ code: z.string(), message: z.string(), hint: z.string().nullable() }).nullable(),
});
export type KeyStatus = z.infer<typeof KeyStatus>;

/** The only secret that ever crosses to the UI: the mnemonic, once, for the user to write down. */
export const PendingBackup = z.object({
  backupId: z.string().min(1).max(128),
  words: z.array(z.string()).length(24),
  key: KeyInfo,
});

// ---------- node, peers, health ----------

export const SignerCardView = z.object({
  publicKey: PublicKeyHex,
  peerId: z.string().max(128),
  displayName: z.string().max(64),
  addresses: z.array(z.string().max(256)).max(16),
  issuedAt: Millis,
  /** How we learned of it. */
  source: z.enum(['lan', 'dht', 'direct']),
});
export type SignerCardView = z.infer<typeof SignerCardView>;

const Count = z.number().int().nonnegative();

export const LanPeer = z.object({
  peerId: z.string().max(128),
  addresses: z.array(z.string().max(256)),
  connected: z.boolean(),
  cards: z.array(z.object({ signerKey: PublicKeyHex, displayName: z.string().max(64), peerId: z.string().max(128), issuedAt: Millis })),
});

/** A peer the node refuses for a while, for misbehaving (docs/NETWORK.md, "Abuse limits"). */
export const PeerBan = z.object({
  peerId: z.string().max(128),
  until: Millis,
  /** The refused frames (by reason, as in rejectedFrames) that earned the ban. */
  reasons: z.record(z.string(), Count),
  /** The signer keys this peer's cards name: a co-signer's computer when one is in a group. */
  signers: z.array(PublicKeyHex).max(8),
});
export type PeerBan = z.infer<typeof PeerBan>;
export const RelayState = z.object({
  address: z.string().max(512),
  peerId: z.string().max(128),
  /** configured: in the settings; co-signer: named in a co-signer's signer card; public: a public
   *  libp2p node met on the IPFS Amino DHT (rendezvous, docs/NETWORK.md). */
  source: z.enum(['configured', 'co-signer', 'public']),
  /** We hold a reservation: others reach us through this relay now. */
  reserved: z.boolean(),
  lastError: z.string().max(1024).nullable(),
});

export const NodeReachability = z.object({
  /** public: a public address is advertised (listened on, UPnP-mapped or confirmed by AutoNAT);
   *  relayed: reachable from outside only through relays; private: only on the LAN. */
  status: z.enum(['public', 'relayed', 'private']),
  publicAddresses: z.array(z.string().max(512)),
  relayAddresses: z.array(z.string().max(512)),
  relays: z.array(RelayState).max(64),
  upnp: z.boolean(),
});

/** How a co-signer (a key in one of our groups) is reached now, and since when. */
export const CosignerReach = z.object({
  signerKey: PublicKeyHex,
  displayName: z.string().max(256).nullable(),
  peerId: z.string().max(128).nullable(),
  path: z.enum(['lan', 'direct', 'relayed', 'not-connected']),
  /** When this path began (null: not connected since the node started). */
  since: Millis.nullable(),
  /** For a relayed path, the relay's peer id. */
  relay: z.string().max(128).nullable(),
});
export type CosignerReach = z.infer<typeof CosignerReach>;

export const NodeStatus = z.object({
  running: z.boolean(),
  peerId: z.string().max(128),
  listenAddresses: z.array(z.string().max(256)),
  connections: Count,
  dhtRoutingTableSize: Count,
  mdnsEnabled: z.boolean(),
  /** Inbound frames refused, by reason (oversized, malformed, ...). */
  rejectedFrames: z.record(z.string(), Count),
  connectedPeers: Count,
  dhtMode: z.enum(['client', 'server']),
  dhtStore: z.object({ records: Count, bytes: Count, rollbacksRefused: Count }),
  /** Co-signer nodes found on the LAN by mDNS, with the cards they presented. */
  lanPeers: z.array(LanPeer),
  knownSigners: Count,
  bannedPeers: Count,
  bansIssued: Count,
  transport: z.object({
    framesDelivered: Count,
    inboxAnnouncementsDelivered: Count,
    inboxRecordsPublished: Count,
    inboxPublishFailures: Count,
    pendingDeliveries: Count,
    failedAttempts: Count,
    watchedCosigners: Count,
    /** Our deliveries a co-signer refused for now (retried), by its reason. */
    nacksReceived: z.object({ 'rate-limited': Count, 'not-ready': Count }),
  }),
  bans: z.array(PeerBan).max(1024),
  /** Inbound connections still in their handshake, and those refused because their address had too many in progress. */
  inboundHandshakes: z.object({ pending: Count, refusedPerAddress: Count }),
  /** Background work of the node that failed (a card republish, a peer-store write), by what it was (logged). */
  failures: z.record(z.string(), Count),
  reachability: NodeReachability.optional(),
  cosigners: z.array(CosignerReach).max(1024).optional(),
});
export type NodeStatus = z.infer<typeof NodeStatus>;

export const SessionPhase = z.enum([
  'AWAITING_APPROVAL',
  'NONCE_EXCHANGE',
  'PARTIAL_SIG_EXCHANGE',
  'COMPLETE',
  'ABORTED',
  'DECLINED',
  'EXPIRED',
]);
export type SessionPhase = z.infer<typeof SessionPhase>;

export const CoordinatorHealth = z.object({
  running: z.boolean(),
  sessionsByPhase: z.record(z.string(), Count),
  oldestSessionAgeMs: Millis.nullable(),
  pendingApprovals: Count,
  lastCleanupAt: Millis.nullable(),
  /** Inbound session messages refused, by error code. */
  rejectedMessages: z.record(z.string(), Count),
  orphanedFrames: Count,
  trackedPeers: Count,
  sendFailures: Count,
  storageFailures: Count,
  corruptRecords: Count,
  listenerErrors: Count,
  /** Sweeps (or parts: retention, the index) that failed; each is tried again at the next sweep. */
  sweepFailures: Count,
  /** Session records on disk, as the index knows them. */
  storedSessions: Count,
  /** The latest requests refused after their creator was authenticated (a PSBT this group cannot
   *  sign, another network, an unreadable PSBT): why nothing was shown. Newest last. */
  refusedRequests: z
    .array(
      z.object({
        sessionId: SessionIdHex,
        creator: PublicKeyHex,
        code: z.string().max(64),
        reason: z.string().max(1024),
        at: Millis,
      }),
    )
    .max(16)
    .optional(),
});

export const Health = z.object({
  node: NodeStatus,
  coordinator: CoordinatorHealth,
  /** Events the back end did not send because they did not match their schema here (a bug; logged). */
  invalidEvents: Count,
  /** Failures of work nobody awaits (an event listener that threw), by where they happened (logged). */
  failures: z.record(z.string(), Count),
});
export type Health = z.infer<typeof Health>;

// ---------- contacts and groups ----------

export const Contact = z.object({ publicKey: PublicKeyHex, name: Name, addedAt: Millis });
export type Contact = z.infer<typeof Contact>;

/** A recovery path: these keys (one key, or a MuSig2 set; need not be members) can spend alone
 *  once a coin is `olderBlocks` blocks old (BIP68, about 10 minutes a block). docs/GROUPS.md. */
export const RecoveryPolicy = z.object({
  keys: z.array(PublicKeyHex).min(1).max(16),
  olderBlocks: z.number().int().min(1).max(0xffff),
});
/** What a group needs to spend. k-of-n: 3 to 7 signers, 2 ≤ k < n (checked in main). Until signing
 *  over leaves exists, every signing request on any group goes by the key path: all n approve. */
export const GroupPolicy = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('n-of-n'), recovery: RecoveryPolicy.optional() }),
  z.object({ kind: z.literal('k-of-n'), k: z.number().int().min(2).max(6), recovery: RecoveryPolicy.optional() }),
]);
export type GroupPolicy = z.infer<typeof GroupPolicy>;

export const GroupInput = z.object({
  name: Name,
  /** Everyone who signs, this user included; order does not matter (keys are sorted). */
  publicKeys: z.array(PublicKeyHex).min(1).max(16),
  /** Absent: n-of-n with no recovery path, every group saved before policies existed. The group id
   *  covers the policy, except that an n-of-n group with no recovery path keeps its old id. */
  policy: GroupPolicy.optional(),
});
export const Group = GroupInput.extend({
  id: hex(32),
  /** BIP327 aggregate of the sorted keys (the taproot internal key), x-only. */
  aggregateKey: XOnlyKeyHex,
  /** BIP341 output key: key path only, or with the policy's script tree (k-of-n, recovery). */
  outputKey: XOnlyKeyHex,
  /** The group's taproot address on the configured network. */
  address: z.string().max(128),
  network: BitcoinNetwork,
});
export type Group = z.infer<typeof Group>;

// ---------- bitcoin transactions (PSBT) ----------

/** Wallet limits (main/wallet/psbt-import.ts, checked equal by a test): a PSBT to sign has at most
 *  128 inputs (a session signs at most 128 messages), 256 outputs and 128 KiB. */
export const PSBT_LIMITS = { inputs: 128, outputs: 256, bytes: 128 * 1024 } as const;
/** 21 million bitcoin in satoshis (below 2^53, so a JSON number holds it exactly). */
const MAX_SATS = 2_100_000_000_000_000;
const Sats = z.number().int().nonnegative().max(MAX_SATS);
const U32 = z.number().int().nonnegative().max(0xffff_ffff);
const AddressText = z.string().min(1).max(128);
/** BIP328 path below the group key: unhardened steps, at most 8 (main/wallet/bip328.ts). */
const DerivationPath = z.array(z.number().int().nonnegative().max(0x7fff_ffff)).max(8);
const HEX_BYTES = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * A PSBT as text: base64 (cHNidP8…) or hex (70736274ff…). Whitespace (line breaks of a pasted
 * PSBT) is removed; at most 128 KiB of PSBT, i.e. 262 144 hex characters.
 */
export const PsbtText = z
  .string()
  .min(1)
  .max(2 * PSBT_LIMITS.bytes + 8192)
  .transform((text) => text.replace(/\s+/g, ''))
  .pipe(
    z
      .string()
      .min(1)
      .max(2 * PSBT_LIMITS.bytes)
      .refine((text) => HEX_BYTES.test(text) || (BASE64.test(text) && text.length % 4 === 0), 'a PSBT in base64 or hex'),
  );

/** Why an input cannot be signed by the group (main/wallet/psbt-import.ts InputRefusalCode). */
export const PsbtRefusalCode = z.enum([
  'already-finalized',
  'missing-utxo',
  'invalid-amount',
  'not-taproot',
  'not-ours',
  'inconsistent-metadata',
  'script-path',
  'invalid-sighash',
  'sighash-not-allowed',
  'foreign-musig-fields',
  'foreign-leaf',
  'wrong-control-block',
  'timelock-not-met',
]);

export const PsbtReviewInput = z.object({
  index: z.number().int().nonnegative(),
  /** Outpoint: the spent transaction's id (display order) and output index. */
  txid: hex(32),
  vout: U32,
  /** Satoshis; null when the PSBT does not say (the input is then refused). */
  amount: Sats.nullable(),
  address: AddressText.nullable(),
  /** BIP328 path below the group key ([] for the group's own address); null when not the group's. */
  path: DerivationPath.nullable(),
  sighash: z.string().max(32),
  /** Set when this input cannot be signed by the group: nothing is signed then. */
  refusal: z.object({ code: PsbtRefusalCode, reason: z.string().max(512) }).nullable(),
});

export const PsbtReviewOutput = z.object({
  index: z.number().int().nonnegative(),
  amount: Sats,
  /** Address on the reviewed network; null for a script without one (see kind). */
  address: AddressText.nullable(),
  script: z
    .string()
    .max(2 * PSBT_LIMITS.bytes)
    .regex(/^(?:[0-9a-f]{2})*$/, 'lower-case hex'),
  kind: z.enum(['address', 'op_return', 'unknown']),
  /** Change: a BIP328 child on the group's change branch (1/i), re-derived from the PSBT's claim. */
  isChange: z.boolean(),
  /** The path below the group key when the output pays the group, change or not ([] for its own key). */
  changePath: DerivationPath.nullable(),
});

/** What a signer sees before approving a transaction: computed by its own node from the PSBT alone. */
export const PsbtReview = z.object({
  network: BitcoinNetwork,
  psbtVersion: z.union([z.literal(0), z.literal(2)]),
  txVersion: z.number().int(),
  lockTime: U32,
  inputs: z.array(PsbtReviewInput).min(1).max(PSBT_LIMITS.inputs),
  outputs: z.array(PsbtReviewOutput).min(1).max(PSBT_LIMITS.outputs),
  /** Satoshis; totalIn and fee are null when an input's amount is unknown. */
  totalIn: Sats.nullable(),
  totalOut: Sats,
  /** Paid to others: the outputs that do not pay the group. */
  sent: Sats,
  fee: Sats.nullable(),
  weight: z.number().int().nonnegative(),
  vsize: z.number().int().nonnegative(),
  /** Satoshis per virtual byte, two decimals. */
  feeRate: z.number().nonnegative().nullable(),
  /** Every input is the group's to spend by its key path: a session can sign it. */
  signable: z.boolean(),
  /** Binds an approval to exactly this transaction (hex); null when an input's UTXO is missing. */
  digest: hex(32).nullable(),
  warnings: z.array(z.enum(['non-default-sighash', 'high-fee'])).max(2),
});
export type PsbtReview = z.infer<typeof PsbtReview>;

/** A PSBT of at most 128 KiB plus what signing adds, base64: per input at most 4.5 KiB of BIP373
 *  fields (16 signers' participant key, nonce and partial signature entries) or a witness. */
const PsbtBase64 = z
  .string()
  .min(8)
  .max(4 * Math.ceil((PSBT_LIMITS.bytes + PSBT_LIMITS.inputs * 4608) / 3))
  .regex(BASE64);

/** The finished transaction of a PSBT session. */
export const SignedTransaction = z.object({
  /** The finalized PSBT (every input with its final witness), base64. */
  psbtBase64: PsbtBase64,
  /** The network-serialized transaction, ready to broadcast, hex. */
  rawTxHex: z
    .string()
    .min(2)
    .max(2 * (PSBT_LIMITS.bytes + PSBT_LIMITS.inputs * 80))
    .regex(/^(?:[0-9a-f]{2})+$/, 'lower-case hex'),
  txid: hex(32),
});
export type SignedTransaction = z.infer<typeof SignedTransaction>;

/** The transaction side of a session whose payload is a PSBT. */
export const PsbtSessionView = z.object({
  review: PsbtReview,
  /** The creator allowed inputs with a sighash type other than DEFAULT (the review warns of them). */
  allowNonDefaultSighash: z.boolean(),
  /** Set once the session is COMPLETE. */
  transaction: SignedTransaction.nullable(),
});
export type PsbtSessionView = z.infer<typeof PsbtSessionView>;

/** A PSBT for a group: what every PSBT request starts from. */
const PsbtForGroup = z.object({
  groupId: hex(32),
  psbt: PsbtText,
  /** Sign inputs that ask for a sighash type other than DEFAULT (an explicit choice of the user). */
  allowNonDefaultSighash: z.boolean().default(false),
});

/** The version of a PSBT the app hands out: 0 (Bitcoin Core reads only v0) unless 2 (BIP370) is asked for; absent is 0. */
export const PsbtExportVersion = z.union([z.literal(0), z.literal(2)]);
export type PsbtExportVersion = z.infer<typeof PsbtExportVersion>;

/**
 * Which of a group's spending paths a request uses (docs/PROTOCOL.md §Group path): the key path
 * (all n sign; the cheapest spend; the default), or a leaf of the group's tree, named by its index
 * in the group's leaf order (GroupWallet's: k-subset leaves in canonical order, then the recovery
 * leaf) or by its signers' keys. The local signer must be one of the path's signers.
 */
export const SpendPathInput = z.union([
  z.object({ kind: z.literal('key') }).strict(),
  z.object({ kind: z.literal('leaf'), leaf: z.number().int().min(0).max(255) }).strict(),
  z.object({ kind: z.literal('leaf'), signers: z.array(PublicKeyHex).min(1).max(16) }).strict(),
]);
export type SpendPathInput = z.infer<typeof SpendPathInput>;

/** psbt.review and psbt.complete. `path`: for a group with a policy, the path its inputs are spent
 *  along (absent: the key path). `version`: of the PSBT psbt.complete returns (a review returns none). */
export const PsbtReviewInputArgs = PsbtForGroup.extend({ path: SpendPathInput.optional(), version: PsbtExportVersion.optional() });

export const CreatePsbtSessionInput = PsbtForGroup.extend(RequestMeta).extend({
  /** The key path when absent (see SpendPathInput). */
  path: SpendPathInput.optional(),
});

/** The longest descriptor of an allowed policy is 17 902 characters (docs/GROUPS.md). */
const Descriptor = z.string().min(1).max(18_000);

/** A group as a watch-only wallet sees it. */
export const GroupWallet = z.object({
  network: BitcoinNetwork,
  /** BIP390 descriptors with their BIP380 checksums. */
  descriptors: z.object({
    /** tr(musig(K1,...,Kn)): the group's own address. */
    keyPath: Descriptor,
    /** tr(musig(...)/0/*): BIP328 receive addresses. */
    receive: Descriptor,
    /** tr(musig(...)/1/*): BIP328 change addresses (import as internal). */
    change: Descriptor,
  }),
  /** BIP328 synthetic xpub of the group's aggregate key (tpub on test networks). */
  syntheticXpub: z.string().min(1).max(128),
  /** The first receive addresses, tr(musig(...)/0/i) for i = 0, 1, ... */
  receiveAddresses: z.array(AddressText).max(20),
});
export type GroupWallet = z.infer<typeof GroupWallet>;

// ---------- the group's coins (main/chain/) ----------

const WalletAddress = z.object({ index: U32, address: AddressText, used: z.boolean() });

/** A coin of the group: an unspent output paying one of its BIP328 addresses. */
export const WalletUtxo = z.object({
  txid: hex(32),
  vout: U32,
  /** Satoshis, checked against the transaction's own bytes. */
  value: Sats,
  address: AddressText,
  branch: z.enum(['receive', 'change']),
  index: U32,
  confirmed: z.boolean(),
  height: z.number().int().nonnegative().nullable(),
});

/** A transaction touching the group, with what it did to the group's coins. */
export const WalletTx = z.object({
  txid: hex(32),
  confirmed: z.boolean(),
  height: z.number().int().nonnegative().nullable(),
  /** Block time, seconds since 1970 (as the server says); null while unconfirmed. */
  blockTime: z.number().int().nonnegative().nullable(),
  /** Paid to the group's addresses, satoshis. */
  received: Sats,
  /** Spent from the group's coins, satoshis. */
  sent: Sats,
});

/** What the chain server said of a group at `fetchedAt`: kept, and shown offline, until the next refresh. */
export const WalletState = z.object({
  fetchedAt: Millis,
  tipHeight: z.number().int().nonnegative(),
  gapLimit: z.number().int().min(1).max(200),
  /** Confirmed: coins whose transaction is in a block; unconfirmed: coins still in the mempool. */
  balance: z.object({ confirmed: Sats, unconfirmed: Sats }),
  utxos: z.array(WalletUtxo).max(10_000),
  /** Newest first (unconfirmed first). */
  history: z.array(WalletTx).max(10_000),
  /** The addresses scanned on each branch, each marked used once a transaction touched it. */
  receive: z.array(WalletAddress).max(2000),
  change: z.array(WalletAddress).max(2000),
  /** The first receive address after the last used one: never a used address. */
  nextReceive: z.object({ index: U32, address: AddressText }),
});
export type WalletState = z.infer<typeof WalletState>;

/** http(s) only: the explorer's becomes a link in the UI, where a javascript: URL would run. */
const HttpUrl = z.url({ protocol: /^https?$/ }).max(256);

/**
 * An Electrum-protocol server (electrs, Fulcrum): `tcp://host:port` (plain) or `ssl://host:port`
 * (TLS, the certificate checked against the system's authorities); an IPv6 host in brackets.
 */
export const ElectrumUrl = z
  .string()
  .max(256)
  .regex(
    /^(?:tcp|ssl):\/\/(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):(?:[1-9]\d{0,4})$/,
    'tcp://host:port or ssl://host:port',
  )
  .refine((url) => Number(url.slice(url.lastIndexOf(':') + 1)) <= 65_535, 'a port up to 65535');

export const ChainBackend = z.object({
  /** Esplora HTTP API base URL (e.g. https://blockstream.info/api); null: no chain access. */
  esploraUrl: HttpUrl.nullable(),
  /** Electrum-protocol server; when set, it is used for this network instead of the Esplora server
   *  (scans, fee estimates, broadcasts). Absent in settings saved before it existed: null. */
  electrumUrl: ElectrumUrl.nullable().default(null),
  /** Block explorer for links: a transaction is `${explorerUrl}/tx/${txid}`. */
  explorerUrl: HttpUrl.nullable(),
});
export type ChainBackend = z.infer<typeof ChainBackend>;

export const WalletStatus = z.object({
  groupId: hex(32),
  network: BitcoinNetwork,
  backend: ChainBackend,
  /** The last state fetched (on this computer, kept across restarts); null before the first refresh. */
  state: WalletState.nullable(),
  /** The last refresh's failure (the state above is then older), or null. */
  lastError: z.object({ code: z.enum(ERROR_CODES), message: z.string().max(1024), at: Millis }).nullable(),
});
export type WalletStatus = z.infer<typeof WalletStatus>;
/** A group file is JSON, at most 3 MiB: it fits a control API frame (4 MiB) with its envelope. Many
 *  n-of-n groups take a few KiB each; a 4-of-7 group about 40 KiB. */
export const MAX_GROUP_FILE = 3 * 1024 * 1024;
export const GroupFileText = z.object({ fileName: z.string().min(1).max(128), text: z.string().min(1).max(MAX_GROUP_FILE) });
export const GroupImportArgs = z.object({
  /** A group file's text, or one group descriptor `tr(musig(...)...)#checksum` with hex keys. */
  text: z.string().min(1).max(MAX_GROUP_FILE),
  /** The name of a group pasted as a bare descriptor (a file names its groups). */
  name: Name.optional(),
});
export const GroupPreview = z.object({
  group: Group,
  /** tr(musig(...)/0/*) at index 0: the address every co-signer compares before saving. */
  firstAddress: AddressText,
  /** Names the file gives the signers (none for a bare descriptor). */
  signerNames: z.array(z.object({ publicKey: PublicKeyHex, name: Name })).max(16),
  /** A group with these keys and this policy is saved already (importing renames it). */
  alreadySaved: z.boolean(),
  /** This user's key is one of the group's signers. */
  includesMe: z.boolean(),
});
export type GroupPreview = z.infer<typeof GroupPreview>;

/** A spend built for the co-signing request (wallet.buildSend, wallet.bumpFee): the PSBT and what it does. */
export const BuiltSpend = z.object({
  psbtBase64: PsbtBase64,
  /** Inputs minus outputs, satoshis; `vsize` of the signed transaction; `feeRate` the whole sat/vB used. */
  fee: Sats,
  vsize: z.number().int().positive(),
  feeRate: z.number().int().positive(),
  /** The change output (the group's change address `1/index`), or null when there is none. */
  change: z.object({ address: AddressText, index: U32, amount: Sats }).nullable(),
  /** What each recipient gets, in order (for sendAll: everything less the fee). */
  amounts: z.array(Sats),
});

// ---------- sessions ----------

export const MessageInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), text: z.string().min(1).max(4096) }),
  z.object({
    kind: z.literal('hex'),
    hex: z
      .string()
      .min(2)
      .max(8192)
      .regex(/^([0-9a-fA-F]{2})+$/, 'hex bytes'),
  }),
]);
export type MessageInput = z.infer<typeof MessageInput>;

/** The result of a message or batch session: BIP322 "simple" signatures for the group's address. */
export const Bip322Result = z.object({
  /** The group's taproot (P2TR key-path) address on this node's network; the signatures depend on
   *  its output key only, so they are the same for its address on any network. */
  address: AddressText,
  /** Per message, what was signed: the BIP322 digest (to_sign's BIP341 key-path signature hash), hex. */
  digests: z.array(hex(32)),
  /** Per message once COMPLETE: the BIP322 simple signature, base64 of to_sign's witness: the 64-byte
   *  BIP340 signature of `signatures` in the snapshot, then, over a leaf (spendPath), the leaf script
   *  and its control block. */
  signatures: z.array(z.string().max(1024).regex(BASE64)),
});
export type Bip322Result = z.infer<typeof Bip322Result>;

export const CreateSessionInput = z.object({
  groupId: hex(32),
  message: MessageInput,
  /** The key path when absent. */
  path: SpendPathInput.optional(),
  ...RequestMeta,
});

/** The group path a session signs by: which group, which path, who is not needed. */
export const SessionPath = z.object({
  groupId: hex(32),
  kind: z.enum(['key', 'leaf']),
  /** The leaf's index in the group's leaf order; null on the key path. */
  leaf: z.number().int().nonnegative().nullable(),
  /** 'subset' (pk(musig(S)), k of the n) or 'recovery'; null on the key path. */
  leafKind: z.enum(['subset', 'recovery']).nullable(),
  /** The x-only key the signatures verify under: the output key, or the key in the leaf script. */
  verifyKey: XOnlyKeyHex,
  /** The group's keys that are not on this path: not asked, not needed. */
  notNeeded: z.array(PublicKeyHex),
});
export type SessionPath = z.infer<typeof SessionPath>;

export const SignerProgress = z.object({
  index: z.number().int().nonnegative(),
  publicKey: PublicKeyHex,
  isLocal: z.boolean(),
  approved: z.boolean(),
  nonceReceived: z.boolean(),
  partialSignatureReceived: z.boolean(),
});

export const SessionSnapshot = z.object({
  sessionId: SessionIdHex,
  version: z.number().int().nonnegative(),
  phase: SessionPhase,
  attempt: z.number().int().nonnegative(),
  createdAt: Millis,
  expiresAt: Millis,
  updatedAt: Millis,
  phaseSince: Millis,
  creator: PublicKeyHex,
  isCreator: z.boolean(),
  signers: z.array(SignerProgress),
  /** What is asked: each message's bytes in hex, with the creator's label for it (no authority: show
   *  the bytes). For a PSBT, each input's BIP341 signature hash, labelled by this node. */
  messages: z.array(z.object({ hex: z.string(), display: z.string() })),
  payloadKind: z.enum(['message', 'batch', 'psbt']),
  description: z.string(),
  /** 'path': the request names a group path (spendPath); 'taproot': a request of an older version,
   *  the signers' n-of-n key path. */
  tweak: z.enum(['none', 'taproot', 'path']),
  /** The output key of the address signed for; for a PSBT, the group's key-path output key
   *  (an input of a BIP328-derived address verifies under its own output key, see psbt.review).
   *  Over a leaf, the signatures verify under spendPath.verifyKey. */
  signingKey: XOnlyKeyHex,
  /** One BIP340 signature per message (over its BIP322 digest, see bip322); for a PSBT, one per
   *  input, in input order. */
  signatures: z.array(SignatureHex),
  /** Set for a PSBT session (payloadKind 'psbt'): the review and, once COMPLETE, the transaction. */
  psbt: PsbtSessionView.nullable().optional(),
  /** Set for a message or batch session: the group's address, the digests and, once COMPLETE, the
   *  BIP322 signatures. */
  bip322: Bip322Result.nullable().optional(),
  /** Set when the request names a group path: which one, and who of the group is not needed. */
  spendPath: SessionPath.nullable().optional(),
  failure: z
    .object({
      code: z.string(),
      reason: z.string(),
      blamedSignerIndex: z.number().int().nonnegative().nullable(),
      /** Every signer blamed (the first is blamedSignerIndex). */
      blame: z.array(z.number().int().nonnegative()),
      /** The signer whose node ended the session. */
      reportedBy: z.number().int().nonnegative(),
      /** The local node checked the blame itself (an invalid contribution it verified, a signer's own
       *  decline, a wait it timed out on). False when another signer's ABORT ended the session: the
       *  blame is then reportedBy's claim, to be shown as what they say, never as a verdict. */
      verified: z.boolean(),
    })
    .nullable(),
  /** The local user has not decided yet. */
  awaitingLocalApproval: z.boolean(),
  /** This node restarted during the current attempt and cannot continue it: resume to go on. */
  interrupted: z.boolean(),
  /** sessions.resume would start a new attempt with fresh nonces. */
  resumable: z.boolean(),
});
export type SessionSnapshot = z.infer<typeof SessionSnapshot>;

/** Longest description and label a history entry carries (characters); the session holds them whole. */
export const SUMMARY_TEXT_CHARS = 120;

/** One line of history: what the list shows, read from the session index without opening the
 *  session's record (sessions.get opens it). */
export const SessionSummary = z.object({
  sessionId: SessionIdHex,
  version: z.number().int().nonnegative(),
  phase: SessionPhase,
  createdAt: Millis,
  updatedAt: Millis,
  creator: PublicKeyHex,
  isCreator: z.boolean(),
  payloadKind: z.enum(['message', 'batch', 'psbt']),
  /** The creator's description, cut to SUMMARY_TEXT_CHARS. */
  description: z.string().max(SUMMARY_TEXT_CHARS),
  /** The first message's label (for a PSBT, the first input's), cut to SUMMARY_TEXT_CHARS. */
  label: z.string().max(SUMMARY_TEXT_CHARS),
  signingKey: XOnlyKeyHex,
  failureCode: z.string().max(64).nullable(),
  awaitingLocalApproval: z.boolean(),
  interrupted: z.boolean(),
});
export type SessionSummary = z.infer<typeof SessionSummary>;

/** Where a history page ends: `createdAt:sessionId` of its last entry (history is newest first, ties by id). */
export const HistoryCursor = z.string().regex(/^\d{1,16}:[0-9a-f]{64}$/, 'a cursor from a previous page');
export const MAX_HISTORY_PAGE = 200;
export const HistoryPage = z.object({
  sessions: z.array(SessionSummary).max(MAX_HISTORY_PAGE),
  /** Pass as `cursor` for the next page; null after the last. */
  next: HistoryCursor.nullable(),
});
export type HistoryPage = z.infer<typeof HistoryPage>;

// ---------- settings ----------

export const Settings = z.object({
  displayName: z.string().trim().max(64),
  network: BitcoinNetwork,
  listenAddresses: z.array(z.string().min(1).max(256)).max(8),
  bootstrapPeers: z.array(z.string().min(1).max(512)).max(32),
  mdns: z.boolean(),
  /** Relays (`cosigner relay` addresses, with /p2p/<id>) to be reachable through behind a NAT. */
  relays: z.array(z.string().min(1).max(512)).max(8).optional(),
  /** Ask the home router for a port mapping (UPnP IGD / NAT-PMP); on unless false. */
  upnp: z.boolean().optional(),
  /** Meet co-signers through the public libp2p network (IPFS Amino DHT and its public relays);
   *  on for mainnet unless false. false: "keep to the LAN and my own relays". */
  publicNetwork: z.boolean().optional(),
  /** The public network's bootstrap peers (multiaddrs with /p2p/<id>); absent: libp2p's public bootstrappers. */
  publicBootstrap: z.array(z.string().min(1).max(512)).max(32).optional(),
  sessionTimeoutSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600),
  stuckSessionTimeoutSeconds: z
    .number()
    .int()
    .min(30)
    .max(24 * 3600),
  /** Ended sessions older than this are deleted from disk (docs/PROTOCOL.md §Persistence). */
  sessionRetentionDays: z.number().int().min(7).max(3650),
  /** At most this many ended sessions are kept on disk, the oldest deleted first. */
  maxStoredSessions: z.number().int().min(100).max(2000),
  /** Sign PSBT inputs asking for a sighash type other than DEFAULT when a request allows them; off by
   *  default: a request's flag alone (its creator's word) is not enough. Applies at once. */
  allowNonDefaultSighash: z.boolean(),
  /** The chain server (and explorer) per network: the wallet view asks it for the group's coins. */
  chainBackends: z.object({ mainnet: ChainBackend, testnet: ChainBackend, signet: ChainBackend, regtest: ChainBackend }),
  /** Unused addresses in a row after which a branch's scan stops (BIP44's gap limit). */
  walletGapLimit: z.number().int().min(1).max(200),
  /** Refresh of a wallet already refreshed once in this run; 0: only on demand. */
  walletRefreshSeconds: z.union([
    z.literal(0),
    z
      .number()
      .int()
      .min(30)
      .max(24 * 3600),
  ]),
});
export type Settings = z.infer<typeof Settings>;

export const AppInfo = z.object({
  version: z.string(),
  mode: z.enum(['electron', 'headless']),
  dataDir: z.string(),
  /** This node's libp2p peer id (null while the keystore cannot be read). */
  peerId: z.string().max(128).nullable(),
});

// ---------- the desktop app: updates and start at login ----------

/** Longest message a failed update step carries: the updater's errors can hold a whole HTTP body. */
export const UPDATE_MESSAGE_CHARS = 500;
const ReleaseVersion = z.string().min(1).max(64);
/** Where "Check for updates" stands (main/desktop/updates.ts): every step after `idle` waits for the user. */
export const UpdateState = z.discriminatedUnion('step', [
  /** No updater: the headless mode, a development build, an installation the updater cannot replace. */
  z.object({ step: z.literal('off'), why: z.string().max(500) }),
  z.object({ step: z.literal('idle') }),
  z.object({ step: z.literal('checking') }),
  z.object({ step: z.literal('current') }),
  z.object({ step: z.literal('available'), version: ReleaseVersion }),
  z.object({ step: z.literal('downloading'), version: ReleaseVersion }),
  z.object({ step: z.literal('ready'), version: ReleaseVersion }),
  z.object({ step: z.literal('failed'), message: z.string().max(UPDATE_MESSAGE_CHARS) }),
]);
export type UpdateState = z.infer<typeof UpdateState>;

/** Whether the desktop app starts (in the tray, without a window) when the user logs in. */
export const StartAtLogin = z.discriminatedUnion('available', [
  z.object({ available: z.literal(true), enabled: z.boolean() }),
  z.object({ available: z.literal(false), why: z.string().max(500) }),
]);
export type StartAtLogin = z.infer<typeof StartAtLogin>;

// ---------- the contract ----------

export const requests = {
  'app.info': request(Empty, AppInfo),

  'keys.status': request(Empty, KeyStatus),
  /** Makes a key and its mnemonic; nothing is stored until the user confirms the backup. */
  'keys.beginCreate': request(Empty, PendingBackup),
  /** The user proves the backup by typing the whole phrase back. */
  'keys.confirmBackup': request(z.object({ backupId: z.string().min(1).max(128), mnemonic: z.string().min(1).max(512) }), KeyInfo),
  'keys.importMnemonic': request(z.object({ mnemonic: z.string().min(1).max(512) }), KeyInfo),
  'keys.importSecret': request(z.object({ secretHex: hex(32) }), KeyInfo),
  /** Drops the key waiting for its backup to be confirmed. */
  'keys.cancelCreate': request(Empty, Ok),
  /** Deleting needs the fingerprint typed back: an explicit confirmation. */
  'keys.delete': request(z.object({ fingerprint: hex(4) }), Ok),
  /** Desktop app: unlocks the encrypted key file with its passphrase or, where no keychain works,
   *  keeps the key in a new one (main/keys/use-key-file.ts). The headless mode: INVALID_INPUT. */
  'keys.useFile': request(z.object({ passphrase: z.string().min(1).max(1024) }), KeyStatus),

  'node.status': request(Empty, NodeStatus),
  'health.get': request(Empty, Health),
  'peers.lan': request(Empty, z.array(SignerCardView)),
  'peers.lookup': request(z.object({ publicKey: PublicKeyHex }), SignerCardView.nullable()),

  'contacts.list': request(Empty, z.array(Contact)),
  /** A key seen on the LAN needs `safetyCode`: the code (preload/safety-code.ts) the user compared with its owner. */
  'contacts.save': request(
    z.object({ publicKey: PublicKeyHex, name: Name, safetyCode: z.string().regex(SAFETY_CODE_PATTERN).optional() }),
    Contact,
  ),
  'contacts.remove': request(z.object({ publicKey: PublicKeyHex }), Ok),

  'groups.list': request(Empty, z.array(Group)),
  'groups.save': request(GroupInput, Group),
  'groups.remove': request(z.object({ id: hex(32) }), Ok),
  /** Descriptors, synthetic xpub and the first receive addresses, for a watch-only wallet. */
  'groups.wallet': request(z.object({ id: hex(32) }), GroupWallet),
  /** A group file (docs/GROUPS.md §Sharing): one group to share with its co-signers, or every group
   *  (no id) as a wallet backup. Public data only: descriptors, names, policy, network. */
  'groups.export': request(z.object({ id: hex(32).optional() }), GroupFileText),
  /** What a group file (or a pasted group descriptor) holds, checked, with each group's first
   *  receive address to compare with the co-signers'. Saves nothing. */
  'groups.preview': request(GroupImportArgs, z.array(GroupPreview).min(1).max(200)),
  /** Saves the groups of a file once the user compared their first addresses: `firstAddresses` are
   *  the addresses shown by groups.preview, in order (CONFIRMATION_MISMATCH otherwise). */
  'groups.import': request(GroupImportArgs.extend({ firstAddresses: z.array(AddressText).min(1).max(200) }), z.array(Group)),

  /** What co-signing this PSBT with the group would sign, computed before anything is sent. */
  'psbt.review': request(PsbtReviewInputArgs, PsbtReview),
  /** The transaction of a PSBT that already carries every co-signer's BIP373 public nonces and partial
   *  signatures (written by another tool): the same checks as a review (PSBT_REFUSED unless the group can
   *  sign every input), then every partial signature checked, aggregated and finalized. Needs no signer
   *  key and sends nothing; a missing nonce or partial signature is INVALID_INPUT, an invalid partial
   *  signature INVALID_PARTIAL_SIGNATURE, each naming input and signer. */
  'psbt.complete': request(PsbtReviewInputArgs, SignedTransaction),
  /** Signs a PSBT over the group's single-key recovery leaf with this node's signer key, which must be
   *  the recovery key: no session (one key signs alone). Every input must be the group's, spent over
   *  that leaf, its nSequence meeting the leaf's older(N) (BIP68: transaction version 2 or more,
   *  block-based, at least N), else PSBT_REFUSED with code `timelock-not-met` (or another refusal
   *  code, per input). `digest`: the review's (psbt.review with the recovery leaf's `path`); another
   *  transaction is PSBT_MISMATCH. Returns the finalized PSBT (`version`, default 0) and the transaction. */
  'psbt.signRecovery': request(PsbtForGroup.extend({ digest: hex(32), version: PsbtExportVersion.optional() }), SignedTransaction),

  'sessions.create': request(CreateSessionInput, SessionSnapshot),
  /** Asks the group to co-sign a PSBT; refused (PSBT_REFUSED, per input) unless the group can sign every input. */
  'sessions.createPsbt': request(CreatePsbtSessionInput, SessionSnapshot),
  'sessions.approve': request(z.object({ sessionId: SessionIdHex }), SessionSnapshot),
  'sessions.decline': request(z.object({ sessionId: SessionIdHex, reason: z.string().max(280).default('') }), SessionSnapshot),
  /** Ends a session this signer takes part in, for everyone, before it completes. */
  'sessions.abort': request(z.object({ sessionId: SessionIdHex, reason: z.string().max(280).default('') }), SessionSnapshot),
  /** Starts a new attempt with fresh nonces for a session cut off mid-exchange. */
  'sessions.resume': request(z.object({ sessionId: SessionIdHex }), SessionSnapshot),
  /** This node's copy of a PSBT session's PSBT: with the BIP373 fields (participants, nonces, partial
   *  signatures) so far, finalized once COMPLETE; what was announced for a stored session that ended unsigned. */
  'sessions.psbt': request(
    z.object({ sessionId: SessionIdHex, version: PsbtExportVersion.optional() }),
    z.object({ psbtBase64: PsbtBase64 }),
  ),
  /** The sessions in memory: every open one and those ended within the session timeout. */
  'sessions.list': request(Empty, z.array(SessionSnapshot)),
  /** Every stored session of this signer, newest first, one page at a time (from the session index:
   *  no record is read); sessions.get opens one. */
  'sessions.history': request(
    z.object({ cursor: HistoryCursor.optional(), limit: z.number().int().min(1).max(MAX_HISTORY_PAGE).default(50) }),
    HistoryPage,
  ),
  'sessions.get': request(z.object({ sessionId: SessionIdHex }), SessionSnapshot),

  /** The group's coins as last fetched (no network access). */
  'wallet.status': request(z.object({ groupId: hex(32) }), WalletStatus),
  /** Asks the chain server again (and keeps the wallet refreshed on a timer while the app runs); a
   *  failure is in `lastError`, with the previous state kept. */
  'wallet.refresh': request(z.object({ groupId: hex(32) }), WalletStatus),
  /** Sends a signed transaction to the group's network through its chain server. Sending one the
   *  network already has is success. */
  'wallet.broadcast': request(
    z.object({
      groupId: hex(32),
      txHex: z
        .string()
        .min(2)
        .max(2 * 400_000)
        .regex(/^(?:[0-9a-f]{2})+$/, 'lower-case hex'),
    }),
    z.object({ txid: hex(32), explorerUrl: z.string().max(512).nullable() }),
  ),

  /** A spend of the group's coins as a PSBT, for the co-signing request (`sessions.create`): RBF on,
   *  change to the group's next change address, every input and the change marked for the review.
   *  `feeRate` in whole sat/vB, or 'estimate' (the chain server's 3-block estimate). Uses the last
   *  refreshed state. `sendAll`: one recipient, every spendable coin, the fee taken from it. */
  'wallet.buildSend': request(
    z.object({
      groupId: hex(32),
      recipients: z
        .array(z.object({ address: AddressText, amount: Sats.min(1).optional() }))
        .min(1)
        .max(255),
      feeRate: z.union([z.number().int().min(1).max(10_000), z.literal('estimate')]),
      sendAll: z.boolean().optional(),
      /** For a group with a tree, who will sign (the key path when absent): it decides the inputs' fields. */
      path: SpendPathInput.optional(),
      /** The version of the PSBT returned (0 unless 2 is asked for). */
      version: PsbtExportVersion.optional(),
    }),
    BuiltSpend,
  ),
  /** A replacement (RBF) of the group's unconfirmed spend `txid` at a higher fee rate, paid from its
   *  change: the same inputs and payments, as a new PSBT for the co-signing request. */
  'wallet.bumpFee': request(
    z.object({
      groupId: hex(32),
      txid: hex(32),
      feeRate: z.number().int().min(1).max(10_000),
      path: SpendPathInput.optional(),
      version: PsbtExportVersion.optional(),
    }),
    BuiltSpend,
  ),
  /** A BIP21 `bitcoin:` URI (or a bare address) read for the group's network: amount in satoshis. */
  'wallet.parseUri': request(
    z.object({ groupId: hex(32), uri: z.string().min(1).max(4096) }),
    z.object({
      address: AddressText,
      amount: Sats.nullable(),
      label: z.string().max(500).nullable(),
      message: z.string().max(500).nullable(),
    }),
  ),

  'settings.get': request(Empty, Settings),
  /** Network settings take effect at the next start. */
  'settings.set': request(Settings.partial(), Settings),

  /** Where the update check stands; `off`, with why, in the headless mode. */
  'updates.status': request(Empty, UpdateState),
  /** Asks the release feed whether a newer release exists; downloads nothing (UPDATES_OFF when off). */
  'updates.check': request(Empty, UpdateState),
  /** Downloads the release the last check found, once the user said yes; installs nothing (NO_UPDATE without one). */
  'updates.download': request(Empty, UpdateState),
  /** Quits and installs the downloaded release, once the user said yes (NO_UPDATE until one is downloaded). */
  'updates.install': request(Empty, Ok),
  'startAtLogin.get': request(Empty, StartAtLogin),
  /** START_AT_LOGIN_UNAVAILABLE in the headless mode. */
  'startAtLogin.set': request(z.object({ enabled: z.boolean() }), StartAtLogin),
};

export const events = {
  /** A session changed (new request, progress, end). */
  session: SessionSnapshot,
  node: NodeStatus,
  /** The set of co-signers seen on the LAN changed. */
  'peers.lan': z.array(SignerCardView),
  keys: KeyStatus,
  /** A group's wallet after each refresh (on demand or on the timer). */
  wallet: WalletStatus,
  /** Each step of the update check, download and install. */
  updates: UpdateState,
};

export type Requests = typeof requests;
export type Events = typeof events;
export type RequestName = keyof Requests & string;
export type EventName = keyof Events & string;
export type CosignerBridge = BridgeOf<Requests, Events>;
