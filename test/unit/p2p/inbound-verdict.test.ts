import { describe, expect, it } from 'vitest';
import { handOver } from '../../../main/p2p/inbound-verdict.ts';
import type { InboundHandler, InboundVerdict } from '../../../main/session/ports.ts';

const frame = { frame: Uint8Array.of(1), fromPeer: 'p' };
const says =
  (v: InboundVerdict): InboundHandler =>
  () =>
    v;

describe('handing a frame to the subscribers', () => {
  it('answers for all of them: taken if any took it, refused only if every one refused it, else asked again', async () => {
    expect(await handOver([says('refused'), says('accepted')], frame)).toBe('accepted');
    expect(await handOver([says('refused'), () => Promise.resolve('refused' as const)], frame)).toBe('refused');
    expect(await handOver([says('refused'), says('retry')], frame)).toBe('retry');
    expect(await handOver([], frame)).toBe('retry');
  });

  it('counts a subscriber that throws or fails as "not now", so that no fault of ours makes a sender drop a frame', async () => {
    const throws: InboundHandler = () => {
      throw new Error('broken');
    };
    expect(await handOver([throws, says('refused')], frame)).toBe('retry');
    expect(await handOver([() => Promise.reject(new Error('disk')), says('refused')], frame)).toBe('retry');
  });

  it('calls every subscriber at once, in order, before any of them has answered', () => {
    const calls: string[] = [];
    void handOver([() => (calls.push('a'), new Promise<InboundVerdict>(() => undefined)), () => (calls.push('b'), 'accepted')], frame);
    expect(calls).toEqual(['a', 'b']);
  });
});
