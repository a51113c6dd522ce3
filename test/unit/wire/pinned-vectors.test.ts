/**
 * Pinned wire bytes: test/vectors/wire.json holds one example of every wire format, written once by
 * scripts/make-wire-vectors.ts. Each is checked by the encoder (the value encodes to exactly those
 * bytes) and by the decoder (the bytes decode to exactly that value), separately, so an encoder and
 * decoder that change together still fail. The sizes quoted in docs/PROTOCOL.md are built here too.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { decodeInboxRecord, encodeInboxRecord } from '../../../main/p2p/dht-records.ts';
import { createSignerCard, decodeSignerCard } from '../../../main/p2p/signer-card.ts';
import { decodeMessage, encodeMessage, type WireMessage } from '../../../main/p2p/wire.ts';
import { verifyAnnouncement } from '../../../main/session/announcement.ts';
import {
  appendSignature,
  decodeFrame,
  encodeAnnouncementBody,
  encodeMessageBody,
  type AnnouncementBody,
  type SessionMessage,
} from '../../../main/session/codec.ts';
import { messageSignatureValid } from '../../../main/session/messages.ts';
import { GroupKeysCache } from '../../../main/session/psbt-session.ts';
import { ClientFrame, ServerFrame } from '../../../preload/control-wire.ts';
import { cosigners, spendFrom } from '../../support/psbt-fixtures.ts';
import { body as announcementBody, signersABC } from '../../support/session-fixtures.ts';
import { alice, bob, carol, cardRandom, inboxRandom, VECTOR_TIME } from '../../support/wire-cases.ts';
import { buildVectors, fromJson, readVectors, toJson, type WireVector } from '../../support/wire-vectors.ts';

const vectors = readVectors();
const ofFormat = (format: WireVector['format']) => vectors.filter((v) => v.format === format).map((v) => [v.name, v] as const);
const signerKeys = [alice.publicKey, bob.publicKey, carol.publicKey];

describe('pinned wire vectors', () => {
  it('cover every format and every session frame type', () => {
    expect(new Set(vectors.map((v) => v.format))).toEqual(
      new Set(['session-frame', 'p2p-frame', 'signer-card', 'inbox-record', 'control-frame']),
    );
    const types = vectors.filter((v) => v.format === 'session-frame').map((v) => (v.value as { type: string }).type);
    expect(new Set(types)).toEqual(new Set(['announcement', 'approve', 'decline', 'nonces', 'partials', 'abort']));
  });

  it('are what the encoders write today, byte for byte', async () => {
    expect(await buildVectors()).toEqual(vectors);
  });

  describe.each(ofFormat('session-frame'))('session frame: %s', (_name, v) => {
    const bytes = hexToBytes(v.hex);
    it('decodes to the pinned value', () => {
      const decoded = decodeFrame(bytes);
      const value =
        decoded.type === 'announcement'
          ? { type: decoded.type, body: decoded.body, signature: decoded.signature }
          : { type: decoded.type, message: decoded.message, signature: decoded.signature };
      expect(toJson(value)).toEqual(v.value);
    });
    it('is what the encoder writes for the pinned value, with a valid signature', () => {
      const value = fromJson(v.value) as { type: string; body?: AnnouncementBody; message?: SessionMessage; signature: Uint8Array };
      const signed = value.body !== undefined ? encodeAnnouncementBody(value.body) : encodeMessageBody(value.message!);
      expect(bytesToHex(appendSignature(signed, value.signature))).toBe(v.hex);
      if (value.body !== undefined) {
        expect(() =>
          verifyAnnouncement(decodeFrame(bytes), { localKey: bob.publicKey, now: VECTOR_TIME, maxSigners: 16, timestampWindowMs: 300_000 }),
        ).not.toThrow();
      } else {
        expect(messageSignatureValid(signed, value.signature, signerKeys[value.message!.sender]!)).toBe(true);
      }
    });
  });

  describe.each(ofFormat('p2p-frame'))('p2p frame: %s', (_name, v) => {
    it('decodes to the pinned value and encodes back to the pinned bytes', () => {
      const decoded = decodeMessage(hexToBytes(v.hex));
      expect(decoded.ok && toJson(decoded.message)).toEqual(v.value);
      expect(bytesToHex(encodeMessage(fromJson(v.value) as WireMessage))).toBe(v.hex);
    });
  });

  it.each(ofFormat('signer-card'))(
    'signer card: decodes to the pinned fields, and the same fields and randomness encode to the pinned bytes',
    (_name, v) => {
      const card = decodeSignerCard(hexToBytes(v.hex));
      const fields = {
        signerKey: card.signerKey,
        peerId: card.peerId,
        displayName: card.displayName,
        multiaddrs: card.multiaddrs,
        issuedAt: card.issuedAt,
      };
      expect(toJson(fields)).toEqual(v.value);
      const pinned = fromJson(v.value) as typeof fields;
      expect(bytesToHex(createSignerCard(pinned, alice, cardRandom()).bytes)).toBe(v.hex);
    },
  );

  it.each(ofFormat('inbox-record'))('inbox record: decodes to the pinned fields, and encodes back to the pinned bytes', (_name, v) => {
    const record = decodeInboxRecord(hexToBytes(v.hex));
    expect(toJson({ recipient: record.recipient, creator: record.creator, seq: record.seq, announcements: record.announcements })).toEqual(
      v.value,
    );
    const pinned = fromJson(v.value) as { recipient: Uint8Array; seq: number; announcements: Uint8Array[] };
    expect(bytesToHex(encodeInboxRecord(pinned, alice, inboxRandom()))).toBe(v.hex);
  });

  it.each(ofFormat('control-frame'))('control-API frame: %s', (name, v) => {
    const text = new TextDecoder().decode(hexToBytes(v.hex));
    const schema = name === 'call' ? ClientFrame : ServerFrame;
    expect(schema.parse(JSON.parse(text))).toEqual(v.value);
    expect(JSON.stringify(v.value)).toBe(text);
  });
});

describe('the sizes docs/PROTOCOL.md quotes', () => {
  const protocol = readFileSync(path.resolve(import.meta.dirname, '../../../docs/PROTOCOL.md'), 'utf8').replace(/\s+/g, ' ');
  const quoted = (pattern: RegExp): number[] => {
    const match = pattern.exec(protocol);
    if (match === null) throw new Error(`docs/PROTOCOL.md no longer says ${pattern}`);
    return match.slice(1).map((n) => Number(n.replace(/ /g, '')));
  };
  const SIG = new Uint8Array(64);
  const head = { sessionId: new Uint8Array(32), sender: 0, attempt: 1, sequence: 1, timestamp: 1 };
  const nonces = Array.from({ length: 128 }, () => new Uint8Array(66));
  const partialsFrame = (signers: number) =>
    appendSignature(
      encodeMessageBody({
        ...head,
        body: {
          type: 'partials',
          partials: Array.from({ length: 128 }, () => new Uint8Array(32)),
          evidence: Array.from({ length: signers }, () => ({ sequence: 1, timestamp: 1, signature: SIG, nonces })),
        },
      }),
      SIG,
    ).length;

  it('PARTIAL_SIGS of 128 messages, for 16 and for 3 signers', () => {
    const [sixteen, three] = quoted(/16 signers × 128 messages: ([\d ]+) bytes, 3 signers: ([\d ]+)\)/);
    expect(partialsFrame(16)).toBe(sixteen);
    expect(partialsFrame(3)).toBe(three);
  });

  it('NONCES of 128 messages', () => {
    const [size] = quoted(/NONCES of 128 messages is ([\d ]+) bytes/);
    expect(appendSignature(encodeMessageBody({ ...head, body: { type: 'nonces', nonces } }), SIG).length).toBe(size);
  });

  it("the announcement of a 128-input PSBT, on the group's own address and on distinct BIP328 addresses", () => {
    const [own, distinct] = quoted(
      /128-input PSBT is ([\d ]+) bytes when every input is on the group's own address, ([\d ]+) on distinct BIP328 addresses/,
    );
    const keys = new GroupKeysCache().of(signersABC.map((s) => s.publicKey));
    const payee = cosigners(1, 'payload-stranger')[0]!.publicKey.subarray(1);
    const size = (path: (i: number) => number[]) => {
      const psbt = spendFrom(
        keys,
        Array.from({ length: 128 }, (_, i) => ({ path: path(i), amount: 10_000n })),
        [{ outputKey: payee, amount: 1_000_000n }],
      ).toPSBT();
      return appendSignature(
        encodeAnnouncementBody(announcementBody({ payload: { kind: 'psbt', network: 'regtest', allowNonDefaultSighash: false, psbt } })),
        SIG,
      ).length;
    };
    expect(size(() => [])).toBe(own);
    expect(size((i) => [0, i])).toBe(distinct);
  });
});
