import { disable, enable } from '@libp2p/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { quietComponentLogger } from '../../../main/p2p/libp2p-logger.ts';

describe('the quiet libp2p component logger', () => {
  afterEach(() => disable());

  it('gives silent loggers, scopes included, for names DEBUG does not enable', () => {
    const log = quietComponentLogger().forComponent('libp2p:yamux');
    expect(log.enabled).toBe(false);
    const scope = log.newScope('stream');
    expect(scope.enabled).toBe(false);
    expect(() => {
      log('a %s', 'message');
      log.error('an error');
      scope.trace('a trace');
    }).not.toThrow();
  });

  it("gives libp2p's own logger to an enabled name, and to an enabled scope of a silent one", () => {
    enable('libp2p:tcp,libp2p:yamux:stream');
    const components = quietComponentLogger();
    expect(components.forComponent('libp2p:tcp').enabled).toBe(true);
    const yamux = components.forComponent('libp2p:yamux');
    expect(yamux.enabled).toBe(false);
    expect(yamux.newScope('stream').enabled).toBe(true);
  });
});
