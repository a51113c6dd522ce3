/**
 * What one session sends on the wire, per signer, computed from the real encoders: the signed
 * announcement and session messages (main/session), wrapped in DELIVER frames (main/p2p/wire.ts)
 * with their varint length prefix, and the ACK each delivered frame gets back. Noise (16-byte tag
 * and 2-byte length per message of up to 64 KiB) and yamux (12-byte header per data frame) come on
 * top; the DHT inbox copies do not go through relays and are not counted.
 *
 * The flow (docs/PROTOCOL.md): the creator sends the announcement to every other signer; every
 * signer but the creator (whose signature is its approval) and the last to approve sends APPROVE to
 * every other signer; then every signer sends NONCES and PARTIAL_SIGS to every other signer.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { signAnnouncement } from '../../main/session/announcement.ts';
import type { AnnouncementBody, SessionMessage } from '../../main/session/codec.ts';
import { signMessage } from '../../main/session/messages.ts';
import { GroupKeysCache } from '../../main/session/psbt-session.ts';
import { encodeMessage } from '../../main/p2p/wire.ts';
import { spendFrom } from './psbt-fixtures.ts';
import { vectorSigner, VECTOR_TIME } from './wire-cases.ts';

const utf8 = new TextEncoder();

export type SessionPayload = 'message' | 'PSBT, 1 input' | 'PSBT, 10 inputs' | 'PSBT, 100 inputs';

function varintLength(n: number): number {
  let bytes = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    bytes += 1;
  }
  return bytes;
}

/** A DELIVER frame on the stream: length prefix and envelope included. */
function delivered(kind: 'announcement' | 'session-message', payload: Uint8Array): number {
  const frame = encodeMessage({ type: 'deliver', kind, payload });
  return varintLength(frame.length) + frame.length;
}

const ACK = (() => {
  const frame = encodeMessage({ type: 'ack' });
  return varintLength(frame.length) + frame.length;
})();

export interface SessionBytes {
  payload: SessionPayload;
  signers: number;
  announcementBytes: number;
  /** Everything the creator writes: announcements, NONCES, PARTIAL_SIGS, and ACKs for what it receives. */
  creatorSends: number;
  /** The same for the last signer to approve (it sends no APPROVE). */
  lastApproverSends: number;
  /** The same for a signer approving before the last (null with 2 signers: there is none). */
  earlyApproverSends: number | null;
}

export function sessionBytes(payload: SessionPayload, n: number): SessionBytes {
  const keys = Array.from({ length: n }, (_, i) => vectorSigner(`session-bytes/${i}`));
  const inputs = payload === 'message' ? 0 : Number(/(\d+) input/.exec(payload)![1]);
  const m = payload === 'message' ? 1 : inputs;
  const body: AnnouncementBody = {
    signers: keys.map((k) => k.publicKey),
    creatorIndex: 0,
    tweak: 'taproot',
    createdAt: VECTOR_TIME,
    expiresAt: VECTOR_TIME + 3_600_000,
    salt: sha256(utf8.encode('session-bytes/salt')),
    display: 'Rent for March',
    payload:
      payload === 'message'
        ? { kind: 'message', message: utf8.encode('I agree to the terms.'), label: 'terms' }
        : {
            kind: 'psbt',
            network: 'mainnet',
            allowNonDefaultSighash: false,
            psbt: spendFrom(
              new GroupKeysCache().of(keys.map((k) => k.publicKey)),
              Array.from({ length: inputs }, () => ({ path: [] as number[], amount: 50_000n })),
              [{ outputKey: keys[0]!.publicKey.subarray(1), amount: BigInt(inputs) * 50_000n - 1_000n }],
              'session-bytes',
            ).toPSBT(),
          },
  };
  const aux = sha256(utf8.encode('session-bytes/aux'));
  const announcement = signAnnouncement(body, keys[0]!.secretKey(), aux);
  const sessionId = announcement.id;
  const head = { sessionId, attempt: 1, timestamp: VECTOR_TIME + 60_000 };
  const point = (i: number) => secp256k1.Point.BASE.multiply(BigInt(i + 1)).toBytes(true);
  const nonces = Array.from({ length: m }, (_, i) => Uint8Array.from([...point(2 * i), ...point(2 * i + 1)]));
  const send = (sender: number, sequence: number, msg: SessionMessage['body']): number =>
    delivered('session-message', signMessage({ ...head, sender, sequence, body: msg } as SessionMessage, keys[sender]!.secretKey(), aux));
  const evidence = keys.map((_, i) => ({ sequence: 2, timestamp: VECTOR_TIME + 30_000, signature: new Uint8Array(64).fill(7), nonces }));
  const approve = (i: number) => send(i, 1, { type: 'approve' });
  const nonceMsg = (i: number) => send(i, 2, { type: 'nonces', nonces });
  const partialMsg = (i: number) =>
    send(i, 3, { type: 'partials', partials: nonces.map((_, j) => sha256(utf8.encode(`partial/${j}`))), evidence });
  const others = n - 1;
  const announcementBytes = delivered('announcement', announcement.frame);
  const contributions = (i: number) => others * (nonceMsg(i) + partialMsg(i));
  const early = n - 2;
  // Frames received: the announcement (not by the creator), APPROVEs of the early approvers other than
  // oneself, and NONCES and PARTIAL_SIGS of every other signer; each is acknowledged.
  const creatorSends = others * announcementBytes + contributions(0) + (early + 2 * others) * ACK;
  const lastApproverSends = contributions(n - 1) + (1 + early + 2 * others) * ACK;
  const earlyApproverSends = early > 0 ? others * approve(1) + contributions(1) + (1 + (early - 1) + 2 * others) * ACK : null;
  return { payload, signers: n, announcementBytes, creatorSends, lastApproverSends, earlyApproverSends };
}

const PAYLOADS: SessionPayload[] = ['message', 'PSBT, 1 input', 'PSBT, 10 inputs', 'PSBT, 100 inputs'];
const SIGNERS = [2, 3, 16];

const kib = (bytes: number): string => (bytes < 10_240 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`);

/** The table in docs/NETWORK.md ("What a session sends"). */
export function sessionBytesTable(): string {
  const rows = [
    '| Payload | Signers | Announcement frame | Creator sends | An early approver sends | The last approver sends |',
    '|---|---|---|---|---|---|',
  ];
  for (const payload of PAYLOADS) {
    for (const n of SIGNERS) {
      const r = sessionBytes(payload, n);
      rows.push(
        `| ${payload} | ${n} | ${kib(r.announcementBytes)} | ${kib(r.creatorSends)} | ${r.earlyApproverSends === null ? '–' : kib(r.earlyApproverSends)} | ${kib(r.lastApproverSends)} |`,
      );
    }
  }
  return rows.join('\n');
}
