/**
 * Canonical byte encoding of every session frame (docs/PROTOCOL.md §Encoding). One value has exactly
 * one encoding: fixed-size fields are raw, every variable field and array is length- or count-
 * prefixed, integers are big-endian, strings are UTF-8 without normalization, and decoding rejects
 * anything the encoder could not have produced (trailing bytes, bad UTF-8, out-of-range values).
 * Pure: no crypto, no I/O. Signatures over these bytes live in announcement.ts and messages.ts.
 */
import type { BitcoinNetwork } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import { ByteReader, ByteWriter } from '../encoding/bytes.ts';
import type { LengthBounds } from '../encoding/bytes.ts';
import { MAX_PSBT_BYTES } from '../wallet/psbt-import.ts';
import type { SpendPath } from '../wallet/spend-path.ts';
import {
  MAX_CODE_BYTES,
  MAX_DISPLAY_BYTES,
  MAX_FRAME_BYTES,
  MAX_LABEL_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_REASON_BYTES,
  MAX_U32,
  PROTOCOL_MAX_MESSAGES,
  PROTOCOL_MAX_SIGNERS,
  PROTOCOL_VERSION,
} from './limits.ts';

export const PUBLIC_KEY_BYTES = 33;
export const SESSION_ID_BYTES = 32;
export const SALT_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const PUBLIC_NONCE_BYTES = 66;
export const PARTIAL_SIG_BYTES = 32;

export const FRAME_TYPES = {
  announcement: 0x01,
  approve: 0x10,
  decline: 0x11,
  nonces: 0x12,
  partials: 0x13,
  abort: 0x14,
} as const;
export type FrameType = keyof typeof FRAME_TYPES;
export type MessageType = Exclude<FrameType, 'announcement'>;

/** 'none' and 'taproot' name no group (the signers' n-of-n key path); 'path' names a group's spending
 *  path, and the group section (GroupPath) follows the tweak byte. */
const TWEAKS = ['none', 'taproot', 'path'] as const;
export type TweakMode = (typeof TWEAKS)[number];

export const GROUP_ID_BYTES = 32;
/** Wire values of a SpendPath's kind; a leaf's index follows as one byte. */
const PATH_KEY = 0x00;
const PATH_LEAF = 0x01;

/**
 * The group a request signs for (its policy id, policyGroupId) and the spending path it uses. Every
 * receiver looks the group up by id in its own book and recomputes the path's signers and keys.
 */
export interface GroupPath {
  id: Uint8Array;
  path: SpendPath;
}

/** Payload kinds are a tagged union; a kind this version does not know decodes to UNSUPPORTED_VERSION. */
export const PAYLOAD_KINDS = { message: 0x01, batch: 0x02, psbt: 0x03 } as const;
export type PayloadKind = keyof typeof PAYLOAD_KINDS;

/** Wire order of the networks a PSBT payload names (a byte each; the order is part of the format). */
export const PSBT_NETWORKS = ['mainnet', 'testnet', 'signet', 'regtest'] as const satisfies readonly BitcoinNetwork[];
/** Flag bits of a PSBT payload; every other bit must be zero. */
const PSBT_ALLOW_NON_DEFAULT_SIGHASH = 0x01;

export interface BatchItem {
  message: Uint8Array;
  label: string;
}
/**
 * A PSBT to co-sign. It carries no message: every signer recomputes each input's BIP341 signature
 * message from the PSBT itself. `network` is the one every signer reviews addresses for;
 * `allowNonDefaultSighash` is the creator's explicit consent to inputs asking for a sighash type
 * other than DEFAULT (each signer's review still shows them as a warning).
 */
export interface PsbtPayload {
  kind: 'psbt';
  network: BitcoinNetwork;
  allowNonDefaultSighash: boolean;
  /** The PSBT's bytes as the creator gave them (v0 or v2), 1..MAX_PSBT_BYTES. */
  psbt: Uint8Array;
}

/** `label` is the creator's display text for a message (e.g. the text it encodes, or "input 2 of tx …"). */
export type Payload =
  { kind: 'message'; message: Uint8Array; label: string } | { kind: 'batch'; items: readonly BatchItem[] } | PsbtPayload;

export interface AnnouncementBody {
  signers: readonly Uint8Array[];
  creatorIndex: number;
  tweak: TweakMode;
  /** Present exactly when `tweak` is 'path'. */
  group?: GroupPath;
  createdAt: number;
  expiresAt: number;
  salt: Uint8Array;
  display: string;
  payload: Payload;
}

export interface MessageHeader {
  sessionId: Uint8Array;
  sender: number;
  attempt: number;
  sequence: number;
  timestamp: number;
}

/** A signer's NONCES message as another signer received it, enough to re-check its signature. */
export interface NonceEvidence {
  sequence: number;
  timestamp: number;
  signature: Uint8Array;
  nonces: readonly Uint8Array[];
}

export type MessageBody =
  | { type: 'approve' }
  | { type: 'decline'; reason: string }
  | { type: 'nonces'; nonces: readonly Uint8Array[] }
  | { type: 'partials'; partials: readonly Uint8Array[]; evidence: readonly NonceEvidence[] }
  | { type: 'abort'; code: string; blame: readonly number[]; reason: string };

export type SessionMessage = MessageHeader & { body: MessageBody };

/** A decoded frame: `signed` is every byte before the trailing 64-byte signature. */
export type DecodedFrame =
  | { type: 'announcement'; body: AnnouncementBody; signed: Uint8Array; signature: Uint8Array }
  | { type: MessageType; message: SessionMessage; signed: Uint8Array; signature: Uint8Array };

function invalid(message: string, context: Record<string, string | number> = {}): CosignerError {
  return new CosignerError('INVALID_INPUT', message, context);
}

function malformed(message: string, context: Record<string, string | number> = {}): CosignerError {
  return new CosignerError('MALFORMED_MESSAGE', message, context);
}

// Variable-length fields (docs/PROTOCOL.md §Encoding: `bytes(a..b)`, `text(≤m)`), one bound for both directions.
const MESSAGE_FIELD: LengthBounds = { prefix: 'u32', min: 1, max: MAX_MESSAGE_BYTES };
const LABEL_FIELD: LengthBounds = { prefix: 'u32', max: MAX_LABEL_BYTES };
const PSBT_FIELD: LengthBounds = { prefix: 'u32', min: 1, max: MAX_PSBT_BYTES };
const PAYLOAD_FIELD: LengthBounds = { prefix: 'u32', max: MAX_FRAME_BYTES };
const DISPLAY_FIELD: LengthBounds = { prefix: 'u32', max: MAX_DISPLAY_BYTES };
const REASON_FIELD: LengthBounds = { prefix: 'u32', max: MAX_REASON_BYTES };
const CODE_FIELD: LengthBounds = { prefix: 'u32', max: MAX_CODE_BYTES };

/** Every frame and payload is written bounded by the frame size (OVERSIZED_MESSAGE beyond). */
function frameWriter(what: string): ByteWriter {
  return new ByteWriter(what, MAX_FRAME_BYTES);
}

function header(writer: ByteWriter, type: FrameType): ByteWriter {
  return writer.u8(PROTOCOL_VERSION, 'version').u8(FRAME_TYPES[type], 'type');
}

// ---------------------------------------------------------------- announcement

function encodePayload(writer: ByteWriter, payload: Payload): void {
  const body = frameWriter('session payload');
  switch (payload.kind) {
    case 'message':
      body.bytes(payload.message, 'message', MESSAGE_FIELD).string(payload.label, 'label', LABEL_FIELD);
      break;
    case 'batch':
      if (payload.items.length < 1) throw invalid('a batch needs at least one message', { field: 'items' });
      body.u16(payload.items.length, 'items', PROTOCOL_MAX_MESSAGES);
      for (const item of payload.items) {
        body.bytes(item.message, 'message', MESSAGE_FIELD).string(item.label, 'label', LABEL_FIELD);
      }
      break;
    case 'psbt': {
      const network = PSBT_NETWORKS.indexOf(payload.network);
      if (network < 0) throw invalid('unknown network', { field: 'network' });
      if (typeof payload.allowNonDefaultSighash !== 'boolean')
        throw invalid('allowNonDefaultSighash must be a boolean', { field: 'flags' });
      body
        .u8(network, 'network')
        .u8(payload.allowNonDefaultSighash ? PSBT_ALLOW_NON_DEFAULT_SIGHASH : 0, 'flags')
        .bytes(payload.psbt, 'psbt', PSBT_FIELD);
      break;
    }
    default:
      throw invalid('unknown payload kind', { field: 'payload' });
  }
  writer.u8(PAYLOAD_KINDS[payload.kind], 'payloadKind').bytes(body.finish(), 'payload', PAYLOAD_FIELD);
}

function decodePayload(reader: ByteReader): Payload {
  const kind = reader.u8('payloadKind');
  const body = new ByteReader(reader.bytes('payload', PAYLOAD_FIELD), 'session payload');
  let payload: Payload;
  if (kind === PAYLOAD_KINDS.message) {
    payload = {
      kind: 'message',
      message: body.bytes('message', MESSAGE_FIELD),
      label: body.string('label', LABEL_FIELD),
    };
  } else if (kind === PAYLOAD_KINDS.batch) {
    const count = body.u16('items', PROTOCOL_MAX_MESSAGES);
    if (count < 1) throw malformed('a batch needs at least one message', { field: 'items' });
    const items: BatchItem[] = [];
    for (let i = 0; i < count; i++) {
      items.push({ message: body.bytes('message', MESSAGE_FIELD), label: body.string('label', LABEL_FIELD) });
    }
    payload = { kind: 'batch', items };
  } else if (kind === PAYLOAD_KINDS.psbt) {
    const network = PSBT_NETWORKS[body.u8('network')];
    if (network === undefined) throw malformed('unknown network', { field: 'network' });
    const flags = body.u8('flags');
    if ((flags & ~PSBT_ALLOW_NON_DEFAULT_SIGHASH) !== 0) throw malformed('unknown PSBT payload flags', { field: 'flags' });
    payload = {
      kind: 'psbt',
      network,
      allowNonDefaultSighash: (flags & PSBT_ALLOW_NON_DEFAULT_SIGHASH) !== 0,
      psbt: body.bytes('psbt', PSBT_FIELD),
    };
  } else {
    throw new CosignerError('UNSUPPORTED_VERSION', 'unknown payload kind', { payloadKind: kind });
  }
  body.end();
  return payload;
}

/** `id` (32 bytes), then the path's kind byte (0 key, 1 leaf) and, for a leaf, its index (one byte). */
function encodeGroupPath(w: ByteWriter, group: GroupPath): void {
  w.fixed(group.id, GROUP_ID_BYTES, 'groupId');
  const path = group.path;
  if (path?.kind === 'key') {
    w.u8(PATH_KEY, 'path');
  } else if (path?.kind === 'leaf' && Number.isInteger(path.leaf) && path.leaf >= 0 && path.leaf <= 0xff) {
    w.u8(PATH_LEAF, 'path').u8(path.leaf, 'leaf');
  } else {
    throw invalid('a spending path is the key path or a leaf index 0..255', { field: 'path' });
  }
}

function decodeGroupPath(r: ByteReader): GroupPath {
  const id = r.fixed(GROUP_ID_BYTES, 'groupId');
  const kind = r.u8('path');
  if (kind === PATH_KEY) return { id, path: { kind: 'key' } };
  if (kind === PATH_LEAF) return { id, path: { kind: 'leaf', leaf: r.u8('leaf') } };
  throw malformed('unknown spending path', { field: 'path' });
}

/** Every byte the creator signs: the whole announcement but its signature. */
export function encodeAnnouncementBody(body: AnnouncementBody): Uint8Array {
  const w = header(frameWriter('session frame'), 'announcement');
  if (!Array.isArray(body.signers) || body.signers.length < 2) throw invalid('at least two signers', { field: 'signers' });
  w.u8(body.signers.length, 'signers', PROTOCOL_MAX_SIGNERS);
  for (const key of body.signers) w.fixed(key, PUBLIC_KEY_BYTES, 'signer');
  if (body.creatorIndex >= body.signers.length) throw invalid('creator index out of range', { field: 'creatorIndex' });
  const tweak = TWEAKS.indexOf(body.tweak);
  if (tweak < 0) throw invalid('unknown tweak', { field: 'tweak' });
  w.u8(body.creatorIndex, 'creatorIndex').u8(tweak, 'tweak');
  if ((body.tweak === 'path') !== (body.group !== undefined)) {
    throw invalid('a group path goes with tweak "path", and only with it', { field: 'group' });
  }
  if (body.group !== undefined) encodeGroupPath(w, body.group);
  w.u64(body.createdAt, 'createdAt')
    .u64(body.expiresAt, 'expiresAt')
    .fixed(body.salt, SALT_BYTES, 'salt')
    .string(body.display, 'display', DISPLAY_FIELD);
  encodePayload(w, body.payload);
  return w.finish();
}

function decodeAnnouncementBody(reader: ByteReader): AnnouncementBody {
  const n = reader.u8('signers', PROTOCOL_MAX_SIGNERS);
  if (n < 2) throw malformed('at least two signers', { field: 'signers' });
  const signers: Uint8Array[] = [];
  for (let i = 0; i < n; i++) signers.push(reader.fixed(PUBLIC_KEY_BYTES, 'signer'));
  const creatorIndex = reader.u8('creatorIndex');
  if (creatorIndex >= n) throw malformed('creator index out of range', { field: 'creatorIndex' });
  const tweak = TWEAKS[reader.u8('tweak')];
  if (tweak === undefined) throw malformed('unknown tweak', { field: 'tweak' });
  // A legacy announcement's body has no `group` key at all, so it reads back exactly as before.
  return {
    signers,
    creatorIndex,
    tweak,
    ...(tweak === 'path' ? { group: decodeGroupPath(reader) } : {}),
    createdAt: reader.u64('createdAt'),
    expiresAt: reader.u64('expiresAt'),
    salt: reader.fixed(SALT_BYTES, 'salt'),
    display: reader.string('display', DISPLAY_FIELD),
    payload: decodePayload(reader),
  };
}

// ---------------------------------------------------------------- session messages

function writeNonces(w: ByteWriter, nonces: readonly Uint8Array[]): void {
  w.u16(nonces.length, 'nonces', PROTOCOL_MAX_MESSAGES);
  for (const nonce of nonces) w.fixed(nonce, PUBLIC_NONCE_BYTES, 'nonce');
}

function readNonces(r: ByteReader): Uint8Array[] {
  const count = r.u16('nonces', PROTOCOL_MAX_MESSAGES);
  const nonces: Uint8Array[] = [];
  for (let i = 0; i < count; i++) nonces.push(r.fixed(PUBLIC_NONCE_BYTES, 'nonce'));
  return nonces;
}

const ABORT_CODE = /^[A-Z][A-Z0-9_]*$/;

/** Every byte the sender signs: the whole message but its signature. */
export function encodeMessageBody(message: SessionMessage): Uint8Array {
  const w = header(frameWriter('session frame'), message.body.type)
    .fixed(message.sessionId, SESSION_ID_BYTES, 'sessionId')
    .u8(message.sender, 'sender')
    .u32(message.attempt, 'attempt')
    .u32(message.sequence, 'sequence')
    .u64(message.timestamp, 'timestamp');
  const body = message.body;
  switch (body.type) {
    case 'approve':
      break;
    case 'decline':
      w.string(body.reason, 'reason', REASON_FIELD);
      break;
    case 'nonces':
      writeNonces(w, body.nonces);
      break;
    case 'partials':
      w.u16(body.partials.length, 'partials', PROTOCOL_MAX_MESSAGES);
      for (const partial of body.partials) w.fixed(partial, PARTIAL_SIG_BYTES, 'partial');
      w.u8(body.evidence.length, 'evidence', PROTOCOL_MAX_SIGNERS);
      for (const e of body.evidence) {
        w.u32(e.sequence, 'sequence').u64(e.timestamp, 'timestamp').fixed(e.signature, SIGNATURE_BYTES, 'signature');
        writeNonces(w, e.nonces);
      }
      break;
    case 'abort':
      if (!ABORT_CODE.test(body.code)) throw invalid('abort code must be an upper-case identifier', { field: 'code' });
      w.string(body.code, 'code', CODE_FIELD);
      w.u8(body.blame.length, 'blame', PROTOCOL_MAX_SIGNERS);
      for (const index of body.blame) w.u8(index, 'blame');
      w.string(body.reason, 'reason', REASON_FIELD);
      break;
    default:
      throw invalid('unknown message type', { field: 'type' });
  }
  return w.finish();
}

function decodeMessageBody(r: ByteReader, type: MessageType): SessionMessage {
  const head: MessageHeader = {
    sessionId: r.fixed(SESSION_ID_BYTES, 'sessionId'),
    sender: r.u8('sender'),
    attempt: r.u32('attempt'),
    sequence: r.u32('sequence'),
    timestamp: r.u64('timestamp'),
  };
  if (head.attempt < 1) throw malformed('attempts start at 1', { field: 'attempt' });
  if (head.sequence < 1) throw malformed('sequence numbers start at 1', { field: 'sequence' });
  switch (type) {
    case 'approve':
      return { ...head, body: { type } };
    case 'decline':
      return { ...head, body: { type, reason: r.string('reason', REASON_FIELD) } };
    case 'nonces':
      return { ...head, body: { type, nonces: readNonces(r) } };
    case 'partials': {
      const partialCount = r.u16('partials', PROTOCOL_MAX_MESSAGES);
      const partials: Uint8Array[] = [];
      for (let i = 0; i < partialCount; i++) partials.push(r.fixed(PARTIAL_SIG_BYTES, 'partial'));
      const evidenceCount = r.u8('evidence', PROTOCOL_MAX_SIGNERS);
      const evidence: NonceEvidence[] = [];
      for (let i = 0; i < evidenceCount; i++) {
        evidence.push({
          sequence: r.u32('sequence'),
          timestamp: r.u64('timestamp'),
          signature: r.fixed(SIGNATURE_BYTES, 'signature'),
          nonces: readNonces(r),
        });
      }
      return { ...head, body: { type, partials, evidence } };
    }
    case 'abort': {
      const code = r.string('code', CODE_FIELD);
      if (!ABORT_CODE.test(code)) throw malformed('abort code must be an upper-case identifier', { field: 'code' });
      const blameCount = r.u8('blame', PROTOCOL_MAX_SIGNERS);
      const blame: number[] = [];
      for (let i = 0; i < blameCount; i++) blame.push(r.u8('blame'));
      return { ...head, body: { type, code, blame, reason: r.string('reason', REASON_FIELD) } };
    }
  }
}

// ---------------------------------------------------------------- frames

const TYPE_BY_BYTE = new Map<number, FrameType>(Object.entries(FRAME_TYPES).map(([name, byte]) => [byte, name as FrameType]));

/** A signed frame is its signed bytes followed by the 64-byte BIP340 signature. */
export function appendSignature(signed: Uint8Array, signature: Uint8Array): Uint8Array {
  if (signature.length !== SIGNATURE_BYTES) throw invalid('signature must be 64 bytes', { field: 'signature' });
  if (signed.length + SIGNATURE_BYTES > MAX_FRAME_BYTES) {
    throw new CosignerError('OVERSIZED_MESSAGE', 'frame exceeds the maximum size', { max: MAX_FRAME_BYTES });
  }
  const frame = new Uint8Array(signed.length + SIGNATURE_BYTES);
  frame.set(signed);
  frame.set(signature, signed.length);
  return frame;
}

export function decodeFrame(frame: Uint8Array): DecodedFrame {
  if (!(frame instanceof Uint8Array)) throw malformed('frame must be bytes');
  if (frame.length > MAX_FRAME_BYTES) {
    throw new CosignerError('OVERSIZED_MESSAGE', 'frame exceeds the maximum size', { size: frame.length, max: MAX_FRAME_BYTES });
  }
  if (frame.length < 2 + SIGNATURE_BYTES) throw malformed('frame too short', { size: frame.length });
  if (frame[0] !== PROTOCOL_VERSION)
    throw new CosignerError('UNSUPPORTED_VERSION', 'unknown protocol version', { version: frame[0] ?? -1 });
  const type = TYPE_BY_BYTE.get(frame[1] ?? -1);
  if (type === undefined) throw new CosignerError('UNSUPPORTED_VERSION', 'unknown frame type', { type: frame[1] ?? -1 });
  const signed = frame.slice(0, frame.length - SIGNATURE_BYTES);
  const signature = frame.slice(frame.length - SIGNATURE_BYTES);
  const reader = new ByteReader(signed, 'session frame');
  reader.fixed(2, 'header');
  if (type === 'announcement') {
    const body = decodeAnnouncementBody(reader);
    reader.end();
    return { type, body, signed, signature };
  }
  const message = decodeMessageBody(reader, type);
  reader.end();
  return { type, message, signed, signature };
}
