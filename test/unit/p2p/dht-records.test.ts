import { describe, expect, it } from 'vitest';
import { generatePeerIdentity, peerIdOf } from '../../../main/p2p/identity.ts';
import { createSignerCard } from '../../../main/p2p/signer-card.ts';
import {
  CARD_NAMESPACE,
  cardKey,
  createDhtRecordRules,
  decodeInboxRecord,
  encodeInboxRecord,
  INBOX_NAMESPACE,
  inboxKey,
  MAX_INBOX_ENTRIES,
  recordVersion,
  rememberingInspector,
} from '../../../main/p2p/dht-records.ts';
import type { AnnouncementFacts } from '../../../main/p2p/dht-records.ts';
import { FakeTime } from '../../support/fake-time.ts';
import { seededRandom } from '../../support/random.ts';
import { testSigner } from '../../support/signers.ts';
import { inspectTestAnnouncement, makeTestAnnouncement } from '../../support/p2p-fixtures.ts';

const time = new FakeTime();
const random = seededRandom('dht-records');
const rules = createDhtRecordRules({ clock: time, inspectAnnouncement: inspectTestAnnouncement });
const validateCard = rules.validators[CARD_NAMESPACE]!;
const validateInbox = rules.validators[INBOX_NAMESPACE]!;
const alice = testSigner('alice');
const bob = testSigner('bob');
const mallory = testSigner('mallory');
const peerId = peerIdOf(await generatePeerIdentity(seededRandom('p')));
const card = (signer = alice, issuedAt = time.now()) =>
  createSignerCard({ peerId, displayName: 'n', multiaddrs: [], issuedAt }, signer, random);
const later = time.now() + 3600_000;

describe('DHT card records', () => {
  it('accept a card under its own signer key only', async () => {
    await expect(validateCard(cardKey(alice.publicKey), card().bytes)).resolves.toBeUndefined();
    // Mallory tries to put her card (or Alice's) under Bob's key: an overwrite attempt.
    await expect(async () => validateCard(cardKey(bob.publicKey), card(mallory).bytes)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    await expect(async () => validateCard(cardKey(bob.publicKey), card(alice).bytes)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
  });

  it('reject forged, malformed and future cards and malformed keys', async () => {
    const forged = card().bytes.slice();
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
    await expect(async () => validateCard(cardKey(alice.publicKey), forged)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    await expect(async () => validateCard(cardKey(alice.publicKey), new Uint8Array([1, 2, 3]))).rejects.toMatchObject({
      code: 'MALFORMED_MESSAGE',
    });
    await expect(async () => validateCard(cardKey(alice.publicKey), card(alice, time.now() + 3600_000).bytes)).rejects.toMatchObject({
      code: 'TIMESTAMP_OUT_OF_WINDOW',
    });
    const upper = new TextEncoder().encode(
      new TextDecoder().decode(cardKey(alice.publicKey)).toUpperCase().replace('/COSIGNER-CARD/', '/cosigner-card/'),
    );
    await expect(async () => validateCard(upper, card().bytes)).rejects.toMatchObject({ code: 'MALFORMED_MESSAGE' });
  });

  it('select the newest card, whatever the order', async () => {
    const select = rules.selectors[CARD_NAMESPACE]!;
    const old = card(alice, time.now() - 1000).bytes;
    const mid = card(alice, time.now() - 500).bytes;
    const now = card(alice, time.now()).bytes;
    expect(await select(cardKey(alice.publicKey), [old, now, mid])).toBe(1);
    expect(await select(cardKey(alice.publicKey), [new Uint8Array([9]), old])).toBe(1);
  });
});

describe('DHT inbox records', () => {
  const ann = (creator = alice, signers = [alice.publicKey, bob.publicKey], expiresAt = later, nonce = 1) =>
    makeTestAnnouncement(creator, signers, expiresAt, nonce);
  const record = (creator = alice, announcements = [ann()], seq = time.now(), recipient = bob.publicKey) =>
    encodeInboxRecord({ recipient, seq, announcements }, creator, random);

  it('accept the creator-signed inbox of announcements listing the recipient', async () => {
    await expect(validateInbox(inboxKey(bob.publicKey, alice.publicKey), record())).resolves.toBeUndefined();
    const decoded = decodeInboxRecord(record());
    expect(decoded.creator).toEqual(alice.publicKey);
    expect(decoded.announcements).toHaveLength(1);
  });

  it('cannot be written by anyone but the creator named in the key', async () => {
    // Mallory signs a record holding a real announcement of Alice's, and puts it in Alice's slot.
    const forged = encodeInboxRecord({ recipient: bob.publicKey, seq: time.now(), announcements: [ann()] }, mallory, random);
    await expect(async () => validateInbox(inboxKey(bob.publicKey, alice.publicKey), forged)).rejects.toMatchObject({
      code: 'BAD_SIGNATURE',
    });
    // ... or moves Alice's record to another recipient's slot.
    await expect(async () => validateInbox(inboxKey(mallory.publicKey, alice.publicKey), record())).rejects.toMatchObject({
      code: 'BAD_SIGNATURE',
    });
  });

  it('holds only valid announcements from its creator that list the recipient and have not all expired', async () => {
    const key = inboxKey(bob.publicKey, alice.publicKey);
    const notListing = ann(alice, [alice.publicKey, mallory.publicKey]);
    await expect(async () => validateInbox(key, record(alice, [notListing]))).rejects.toMatchObject({ code: 'NOT_A_SIGNER' });
    const fromMallory = ann(mallory, [mallory.publicKey, bob.publicKey]);
    await expect(async () => validateInbox(key, record(alice, [fromMallory]))).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    const forgedAnn = ann().slice();
    forgedAnn[forgedAnn.length - 1] = (forgedAnn[forgedAnn.length - 1] as number) ^ 1;
    await expect(async () => validateInbox(key, record(alice, [forgedAnn]))).rejects.toMatchObject({ code: 'MALFORMED_MESSAGE' });
    const expired = ann(alice, [alice.publicKey, bob.publicKey], time.now() - 1);
    await expect(async () => validateInbox(key, record(alice, [expired]))).rejects.toMatchObject({ code: 'EXPIRED' });
    await expect(validateInbox(key, record(alice, [expired, ann()]))).resolves.toBeUndefined();
    expect(() =>
      record(
        alice,
        Array.from({ length: MAX_INBOX_ENTRIES + 1 }, (_, i) => ann(alice, undefined, later, i)),
      ),
    ).toThrow();
  });

  it('select the highest sequence number', async () => {
    const select = rules.selectors[INBOX_NAMESPACE]!;
    const key = inboxKey(bob.publicKey, alice.publicKey);
    expect(await select(key, [record(alice, [ann()], 5), record(alice, [ann()], 9), record(alice, [ann()], 7)])).toBe(1);
  });
});

describe('checks a node does not repeat', () => {
  const ann = (nonce: number) => makeTestAnnouncement(alice, [alice.publicKey, bob.publicKey], later, nonce);

  it('an announcement is inspected once while remembered, its verdict (good or bad) kept, the oldest forgotten first', () => {
    const inspected: Uint8Array[] = [];
    const inspect = rememberingInspector((a): AnnouncementFacts => {
      inspected.push(a);
      return inspectTestAnnouncement(a);
    }, 2);
    const [one, two, three] = [ann(1), ann(2), ann(3)];
    const bad = one.slice();
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
    expect(inspect(one)).toEqual(inspectTestAnnouncement(one));
    expect(inspect(one.slice())).toEqual(inspectTestAnnouncement(one));
    expect(inspected).toHaveLength(1);
    expect(inspect(bad).ok).toBe(false);
    expect(inspect(bad).ok).toBe(false);
    expect(inspected).toHaveLength(2);
    inspect(two);
    inspect(three);
    inspect(one);
    expect(inspected).toHaveLength(5);
  });

  it('a record validated already has its version read without its signature, any other one is checked', () => {
    const key = inboxKey(bob.publicKey, alice.publicKey);
    const valid = encodeInboxRecord({ recipient: bob.publicKey, seq: 42, announcements: [ann(1)] }, alice, random);
    const forged = valid.slice();
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
    expect(recordVersion(key, valid)).toBe(42);
    expect(recordVersion(key, forged)).toBeUndefined();
    expect(recordVersion(key, forged, 'already-validated')).toBe(42);
    expect(recordVersion(key, new Uint8Array([1, 2]), 'already-validated')).toBeUndefined();
    const aliceCard = card(alice, 1234).bytes;
    const forgedCard = aliceCard.slice();
    forgedCard[forgedCard.length - 1] = (forgedCard[forgedCard.length - 1] as number) ^ 1;
    expect(recordVersion(cardKey(alice.publicKey), forgedCard)).toBeUndefined();
    expect(recordVersion(cardKey(alice.publicKey), forgedCard, 'already-validated')).toBe(1234);
  });
});
