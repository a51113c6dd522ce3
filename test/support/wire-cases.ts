/**
 * One example of every wire format, built from fixed keys and fixed randomness, so the bytes are
 * the same on every run: session frames of each type (docs/PROTOCOL.md), the p2p frames and a signer
 * card and an inbox record (docs/NETWORK.md), and control-API frames (docs/API.md).
 * `scripts/make-wire-vectors.ts` wrote test/vectors/wire.json from these once; the pinned-vectors
 * test checks today's encoders and decoders against that file, so a change to either shows.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describePolicyGroup } from '../../main/wallet/policy-group.ts';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { signAnnouncement } from '../../main/session/announcement.ts';
import type { AnnouncementBody, SessionMessage } from '../../main/session/codec.ts';
import { signMessage } from '../../main/session/messages.ts';
import type { SignerKey } from '../../main/p2p/signer-card.ts';
import type { WireMessage } from '../../main/p2p/wire.ts';
import type { ServerFrame, ClientFrame } from '../../preload/control-wire.ts';
import { seededRandom } from './random.ts';

export const VECTOR_TIME = Date.UTC(2026, 0, 1);

const utf8 = new TextEncoder();
/** A fixed secret key per name: SHA-256 of the name (a valid scalar for these names). */
export function vectorSigner(name: string): SignerKey {
  const secret = sha256(utf8.encode(`wire-vectors/${name}`));
  return { publicKey: secp256k1.getPublicKey(secret, true), secretKey: () => secret.slice() };
}

export const alice = vectorSigner('alice');
export const bob = vectorSigner('bob');
export const carol = vectorSigner('carol');
const aux = (label: string) => sha256(utf8.encode(`wire-vectors/aux/${label}`));

export function announcementCases(psbt: Uint8Array): { name: string; body: AnnouncementBody }[] {
  const base = {
    signers: [alice.publicKey, bob.publicKey, carol.publicKey],
    creatorIndex: 0,
    tweak: 'taproot' as const,
    createdAt: VECTOR_TIME,
    expiresAt: VECTOR_TIME + 3_600_000,
    salt: sha256(utf8.encode('wire-vectors/salt')),
    display: 'Rent for March',
  };
  return [
    {
      name: 'announcement, message',
      body: { ...base, payload: { kind: 'message', message: utf8.encode('I agree to the terms.'), label: 'terms' } },
    },
    {
      name: 'announcement, batch',
      body: {
        ...base,
        payload: {
          kind: 'batch',
          items: [
            { message: utf8.encode('first'), label: 'one' },
            { message: utf8.encode('second'), label: 'two' },
          ],
        },
      },
    },
    { name: 'announcement, PSBT', body: { ...base, payload: { kind: 'psbt', network: 'regtest', allowNonDefaultSighash: false, psbt } } },
  ];
}

/** Requests naming a group path (tweak 2): the 2-of-3 group of alice, bob and carol, over its key
 *  path (all three) and over its first leaf (a pair alice is in). */
export function pathAnnouncementCases(): { name: string; body: AnnouncementBody }[] {
  const keys = [alice.publicKey, bob.publicKey, carol.publicKey];
  const id = hexToBytes(describePolicyGroup('vectors', keys.map(bytesToHex), 'regtest', { kind: 'k-of-n', k: 2 }).id);
  // Leaves in order: {s0,s1}, {s0,s2}, {s1,s2} of the sorted keys; the first leaf alice (the creator) is on.
  const sorted = [...keys].sort((a, b) => (bytesToHex(a) < bytesToHex(b) ? -1 : 1));
  const leaves = [
    [0, 1],
    [0, 2],
    [1, 2],
  ].map((pair) => pair.map((i) => sorted[i] as Uint8Array));
  const leaf = leaves.findIndex((pair) => pair.includes(alice.publicKey));
  const cosigner = (leaves[leaf] as Uint8Array[]).find((k) => k !== alice.publicKey) as Uint8Array;
  const base = {
    creatorIndex: 0,
    tweak: 'path' as const,
    createdAt: VECTOR_TIME,
    expiresAt: VECTOR_TIME + 3_600_000,
    salt: sha256(utf8.encode('wire-vectors/salt')),
    display: 'Rent for March',
    payload: { kind: 'message' as const, message: utf8.encode('I agree to the terms.'), label: 'terms' },
  };
  return [
    { name: 'announcement, message, group key path', body: { ...base, signers: keys, group: { id, path: { kind: 'key' } } } },
    {
      name: 'announcement, message, group leaf',
      body: { ...base, signers: [alice.publicKey, cosigner], group: { id, path: { kind: 'leaf', leaf } } },
    },
  ];
}

export function signedAnnouncement(body: AnnouncementBody, name: string): Uint8Array {
  return signAnnouncement(body, alice.secretKey(), aux(name)).frame;
}

export function messageCases(sessionId: Uint8Array): { name: string; message: SessionMessage; sender: SignerKey }[] {
  const head = { sessionId, attempt: 1, timestamp: VECTOR_TIME + 60_000 };
  const nonce = (i: number) => {
    // A public nonce is two compressed points: fixed multiples of G keep it valid.
    const r1 = secp256k1.Point.BASE.multiply(BigInt(2 * i + 1)).toBytes(true);
    const r2 = secp256k1.Point.BASE.multiply(BigInt(2 * i + 2)).toBytes(true);
    return Uint8Array.from([...r1, ...r2]);
  };
  const evidenceOf = (sequence: number, label: string) => ({
    sequence,
    timestamp: VECTOR_TIME + 30_000,
    signature: Uint8Array.from([...aux(`evidence/${label}/r`), ...aux(`evidence/${label}/s`)]),
    nonces: [nonce(sequence)],
  });
  return [
    { name: 'APPROVE', sender: bob, message: { ...head, sender: 1, sequence: 1, body: { type: 'approve' } } },
    { name: 'DECLINE', sender: carol, message: { ...head, sender: 2, sequence: 1, body: { type: 'decline', reason: 'not this month' } } },
    { name: 'NONCES', sender: bob, message: { ...head, sender: 1, sequence: 2, body: { type: 'nonces', nonces: [nonce(1)] } } },
    {
      name: 'PARTIAL_SIGS',
      sender: bob,
      message: {
        ...head,
        sender: 1,
        sequence: 3,
        body: {
          type: 'partials',
          partials: [sha256(utf8.encode('partial'))],
          evidence: [evidenceOf(1, 'a'), evidenceOf(2, 'b'), evidenceOf(3, 'c')],
        },
      },
    },
    {
      name: 'ABORT',
      sender: carol,
      message: {
        ...head,
        sender: 2,
        sequence: 2,
        body: { type: 'abort', code: 'INVALID_PARTIAL_SIGNATURE', blame: [1], reason: 'partial signature 0 of bob does not verify' },
      },
    },
  ];
}

export function signedMessage(c: { name: string; message: SessionMessage; sender: SignerKey }): Uint8Array {
  return signMessage(c.message, c.sender.secretKey(), aux(c.name));
}

export function wireCases(
  announcement: Uint8Array,
  sessionMessage: Uint8Array,
  card: Uint8Array,
): { name: string; message: WireMessage }[] {
  return [
    { name: 'DELIVER, announcement', message: { type: 'deliver', kind: 'announcement', payload: announcement } },
    { name: 'DELIVER, session message', message: { type: 'deliver', kind: 'session-message', payload: sessionMessage } },
    { name: 'ACK', message: { type: 'ack' } },
    { name: 'NACK, rate-limited', message: { type: 'nack', reason: 'rate-limited' } },
    { name: 'NACK, not-ready', message: { type: 'nack', reason: 'not-ready' } },
    { name: 'CARD', message: { type: 'card', card } },
  ];
}

export async function vectorPeerId(): Promise<string> {
  const key = await generateKeyPairFromSeed('Ed25519', sha256(utf8.encode('wire-vectors/peer')));
  return peerIdFromPrivateKey(key).toString();
}

export const cardFields = (peerId: string) => ({
  peerId,
  displayName: 'Alice',
  multiaddrs: ['/ip4/127.0.0.1/tcp/4001', '/ip6/::1/tcp/4001'],
  issuedAt: VECTOR_TIME,
});

export const cardRandom = () => seededRandom('wire-vectors/card');
export const inboxRandom = () => seededRandom('wire-vectors/inbox');

export const controlCases: { name: string; frame: ClientFrame | ServerFrame }[] = [
  { name: 'call', frame: { type: 'call', id: 1, method: 'sessions.get', args: { sessionId: '00'.repeat(32) } } },
  { name: 'result', frame: { type: 'result', id: 1, result: { ok: true } } },
  { name: 'error', frame: { type: 'error', id: 2, error: { code: 'UNKNOWN_SESSION', message: 'no such session' } } },
  { name: 'event', frame: { type: 'event', event: 'node', payload: { running: true } } },
  { name: 'hello', frame: { type: 'hello', version: 1 } },
];
