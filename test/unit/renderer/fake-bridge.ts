/// <reference types="svelte" />
/**
 * A bridge for the store tests: the real UI-side client (preload/client.ts, which checks every
 * argument, result and event against the contract) over a scripted carrier. Replies come from
 * handlers the test sets, and may be held back (a deferred) to play an event in before them.
 */
import { createBridge, type BridgeCarrier } from '../../../preload/client.ts';
import type { WireError } from '../../../preload/contract-kit.ts';
import type { CosignerBridge, EventName, RequestName } from '../../../preload/contract.ts';

type Reply = { ok: true; result: unknown } | { ok: false; error: WireError };

export class FakeBackEnd {
  /** Every subscribe and call, in order: `subscribe:session`, `call:sessions.list`. */
  readonly log: string[] = [];
  readonly bridge: CosignerBridge;
  readonly #listeners = new Map<string, Set<(payload: unknown) => void>>();
  readonly #handlers = new Map<string, (args: unknown) => unknown>();

  constructor() {
    const carrier: BridgeCarrier = {
      invoke: async (name, args) => this.#invoke(name, args),
      listen: (name, listener) => {
        this.log.push(`subscribe:${name}`);
        let set = this.#listeners.get(name);
        if (!set) this.#listeners.set(name, (set = new Set()));
        set.add(listener);
        return () => set.delete(listener);
      },
    };
    this.bridge = createBridge(carrier);
  }

  /** What `name` answers: a value, a promise (to hold the reply back), or a thrown WireError. */
  on(name: RequestName, handler: (args: unknown) => unknown): this {
    this.#handlers.set(name, handler);
    return this;
  }

  emit(name: EventName, payload: unknown): void {
    for (const listener of this.#listeners.get(name) ?? []) listener(payload);
  }

  listenerCount(name: EventName): number {
    return this.#listeners.get(name)?.size ?? 0;
  }

  async #invoke(name: RequestName, args: unknown): Promise<Reply> {
    this.log.push(`call:${name}`);
    const handler = this.#handlers.get(name);
    if (!handler) return { ok: false, error: { code: 'INTERNAL', message: `no handler for ${name} in this test` } };
    try {
      return { ok: true, result: await handler(args) };
    } catch (error) {
      return { ok: false, error: error as WireError };
    }
  }
}

export function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks (a reply travelling through the client) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}
