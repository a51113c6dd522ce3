import { describe, expect, it } from 'vitest';
import { createBridge, type BridgeCarrier } from '../../../preload/client.ts';

describe('events checked where they are received', () => {
  it('delivers an event that matches its schema and reports one that does not instead of dropping it in silence', () => {
    const listeners = new Map<string, (payload: unknown) => void>();
    const carrier: BridgeCarrier = {
      invoke: async () => ({ ok: true, result: null }),
      listen: (name, listener) => {
        listeners.set(name, listener);
        return () => listeners.delete(name);
      },
    };
    const reported: [string, string][] = [];
    const bridge = createBridge(carrier, (event, detail) => reported.push([event, detail]));
    const received: unknown[] = [];
    bridge.subscribe('keys', (status) => received.push(status));

    const good = { backend: 'file', key: null, problem: null };
    listeners.get('keys')!(good);
    listeners.get('keys')!({ backend: 'paper', key: null, problem: null });

    expect(received).toEqual([good]);
    expect(reported).toHaveLength(1);
    expect(reported[0]![0]).toBe('keys');
    expect(reported[0]![1]).toMatch(/^backend: /);
  });
});
