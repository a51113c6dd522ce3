/**
 * A busy co-signer: a script (or `--auto-approve`) drives message sessions back to back, faster than
 * the receiver's per-peer frame rate. The receiver slows it down with back-pressure (NACK
 * rate-limited, the sender retries), but its pace is no offence: before this, every refused frame
 * was a strike, ten strikes a ban, and every later session expired with both signers approved.
 */
import { verifiesAsBip322 } from '../../support/bip322-check.ts';
import { knownGroups } from '../../support/known-groups.ts';
import { bytesToHex } from '@noble/hashes/utils.js';
import { p2tr } from '@scure/btc-signer';
import { keyAggExport, keyAggregate, sortKeys } from '@scure/btc-signer/musig2.js';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectAnnouncement } from '../../../main/session/announcement.ts';
import type { SessionCoordinator } from '../../../main/session/coordinator.ts';
import { MemoryRecordStore } from '../../support/memory-record-store.ts';
import { startCoordinator } from '../../support/real-cluster.ts';
import { testSigner } from '../../support/signers.ts';
import { startNode, stopAll, waitFor, type TestNode } from './harness.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

function completed(c: SessionCoordinator, id: string) {
  const s = c.list().find((x) => x.sessionId === id);
  return s?.phase === 'COMPLETE' ? s : undefined;
}

describe('busy co-signer', () => {
  it('a busy co-signer driving many sessions back to back is not banned and every session completes', async () => {
    const busy = testSigner('busy-sender');
    const receiver = testSigner('busy-receiver');
    const nodes: TestNode[] = [];
    cleanups.push(() => stopAll(nodes));
    // The receiver's limits scaled down (a burst of 4 frames, 3 a second, a ban at 3 strikes) so that
    // a few dozen sessions meet them as a few hundred meet the defaults.
    const guard = { burst: 4, ratePerSecond: 3, strikeLimit: 3, strikeWindowMs: 60_000, banMs: 60_000 };
    const recv = await startNode('busy-receiver', { signers: [receiver], inspectAnnouncement, guard, cosigners: [busy.publicKey] });
    nodes.push(recv);
    const send = await startNode('busy-sender', {
      signers: [busy],
      inspectAnnouncement,
      bootstrap: [recv.addr],
      cosigners: [receiver.publicKey],
    });
    nodes.push(send);
    await waitFor(
      'cards exchanged',
      () => recv.network.transport.peerOf(busy.publicKey) !== undefined && send.network.transport.peerOf(receiver.publicKey) !== undefined,
    );
    const keys = [busy.publicKey, receiver.publicKey];
    const atSender = await startCoordinator(send, new MemoryRecordStore(), { knownGroup: knownGroups([keys]) });
    const atReceiver = await startCoordinator(recv, new MemoryRecordStore(), {
      knownGroup: knownGroups([keys]),
      options: { autoApprove: () => true },
    });
    cleanups.push(() => atSender.cleanup());
    cleanups.push(() => atReceiver.cleanup());

    const outputKey = p2tr(keyAggExport(keyAggregate(sortKeys(keys)))).tweakedPubkey;
    const throttled = () => recv.network.status().rejectedFrames['rate-limited'];
    // Back to back until the receiver has slowed the sender down more than twice the strike limit
    // (however fast this machine runs them), and at least a dozen sessions.
    for (let i = 0; i < 12 || throttled() <= 2 * guard.strikeLimit; i++) {
      if (i === 60) throw new Error('the sender never went faster than the receiver takes frames');
      const message = bytesToHex(new Uint8Array(32).fill(i));
      const { sessionId } = await atSender.createSession({
        signers: keys.map(bytesToHex),
        payload: { kind: 'message', message, label: `busy ${i}` },
        description: `busy ${i}`,
        tweak: 'taproot',
      });
      const done = await waitFor(
        `session ${i} COMPLETE on both`,
        () => completed(atReceiver, sessionId) && completed(atSender, sessionId),
        20_000,
      );
      expect(verifiesAsBip322(done, outputKey)).toBe(true);
    }

    // Back-pressure was applied, and never turned into a ban.
    const status = recv.network.status();
    expect(status.bansIssued).toBe(0);
    expect(status.bannedPeers).toBe(0);
  }, 120_000);
});
