/**
 * Hands an inbound frame to every subscriber and combines what they made of it into the one answer
 * its sender gets: taken if any subscriber took it, asked for again if any could not take it now,
 * refused only if every one refused it. A subscriber that throws counts as "not now": a fault of
 * ours must not make the sender drop a frame.
 */
import type { InboundFrame, InboundHandler, InboundVerdict } from '../session/ports.ts';

export async function handOver(handlers: Iterable<InboundHandler>, inbound: InboundFrame): Promise<InboundVerdict> {
  // Each handler is called synchronously, in order (an async function runs to its first await), so
  // frames reach the coordinator in the order they arrived.
  const verdicts = await Promise.all(
    [...handlers].map(async (handler): Promise<InboundVerdict> => {
      try {
        return await handler(inbound);
      } catch {
        return 'retry';
      }
    }),
  );
  if (verdicts.includes('accepted')) return 'accepted';
  return verdicts.length > 0 && verdicts.every((v) => v === 'refused') ? 'refused' : 'retry';
}
