import { describe, expect, it } from 'vitest';
import { events } from '../../../preload/contract.ts';
import { createEventGate } from '../../../main/event-gate.ts';

const KEY = '02' + '11'.repeat(32);

function gate() {
  const delivered: [string, unknown][] = [];
  const logged: [string, string][] = [];
  const g = createEventGate({
    events,
    deliver: (event, payload) => delivered.push([event, payload]),
    onInvalid: (event, detail) => logged.push([event, detail]),
  });
  return { g, delivered, logged };
}

describe('events checked against the contract where they are emitted', () => {
  it('sends an event that matches its schema, as the schema parsed it (no stray field leaves)', () => {
    const { g, delivered, logged } = gate();
    const status = { backend: 'file', key: { publicKey: KEY, fingerprint: '0a0b0c0d' }, problem: null };
    expect(g.emit('keys', { ...status, secretKey: 'ff'.repeat(32) })).toBe(true);
    expect(delivered).toEqual([['keys', status]]);
    expect(logged).toEqual([]);
    expect(g.invalidEvents).toBe(0);
  });

  it('refuses an event of the wrong shape at emit: nothing is sent, it is logged with what did not match, and counted', () => {
    const { g, delivered, logged } = gate();
    expect(g.emit('keys', { backend: 'keychain', key: { publicKey: 'not a key', fingerprint: '0a0b0c0d' }, problem: null })).toBe(false);
    expect(g.emit('peers.lan', { not: 'a list' })).toBe(false);
    expect(delivered).toEqual([]);
    expect(logged.map(([event]) => event)).toEqual(['keys', 'peers.lan']);
    expect(logged[0]![1]).toContain('key.publicKey');
    expect(g.invalidEvents).toBe(2);
  });

  it('refuses an event the contract does not name, including inherited property names', () => {
    const { g, delivered } = gate();
    expect(g.emit('nope' as 'keys', {})).toBe(false);
    expect(g.emit('constructor' as 'keys', {})).toBe(false);
    expect(delivered).toEqual([]);
    expect(g.invalidEvents).toBe(2);
  });
});
