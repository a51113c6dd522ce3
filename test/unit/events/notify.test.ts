import { describe, expect, it } from 'vitest';
import { notifyAll } from '../../../main/notify.ts';

describe('notifyAll', () => {
  it('calls every listener in order with the arguments, past one that throws', () => {
    const calls: string[] = [];
    const listeners = new Set<(event: string, n: number) => void>([
      (e, n) => calls.push(`a ${e} ${n}`),
      () => {
        throw new Error('broken listener');
      },
      (e, n) => calls.push(`c ${e} ${n}`),
    ]);
    const errors: unknown[] = [];
    expect(() => notifyAll(listeners, (e) => errors.push(e), 'x', 1)).not.toThrow();
    expect(calls).toEqual(['a x 1', 'c x 1']);
    // The broken listener's error is handed on, not lost.
    expect(errors).toMatchObject([{ message: 'broken listener' }]);
  });

  it('lets a listener remove itself while being notified', () => {
    const calls: string[] = [];
    const listeners = new Set<() => void>();
    const once = () => {
      calls.push('once');
      listeners.delete(once);
    };
    listeners.add(once).add(() => calls.push('always'));
    const fail = (e: unknown) => {
      throw e;
    };
    notifyAll(listeners, fail);
    notifyAll(listeners, fail);
    expect(calls).toEqual(['once', 'always', 'always']);
  });
});
