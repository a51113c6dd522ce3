import { describe, expect, it } from 'vitest';
import type { SessionSummary } from '../../../preload/contract.ts';
import { HISTORY_PAGE, HistoryStore } from '../../../renderer/src/stores/history.svelte.ts';
import { FakeBackEnd } from './fake-bridge.ts';

function summary(n: number): SessionSummary {
  return {
    sessionId: n.toString(16).padStart(64, '0'),
    version: 1,
    phase: 'COMPLETE',
    createdAt: 1_000_000 - n,
    updatedAt: 1_000_000 - n,
    creator: '02' + 'aa'.repeat(32),
    isCreator: true,
    payloadKind: 'message',
    description: `request ${n}`,
    label: '',
    signingKey: 'cc'.repeat(32),
    failureCode: null,
    awaitingLocalApproval: false,
    interrupted: false,
  };
}

describe('HistoryStore', () => {
  it('asks for one page at a time, following the cursor, and starts over on reload', async () => {
    const asked: unknown[] = [];
    const all = Array.from({ length: HISTORY_PAGE + 5 }, (_, i) => summary(i));
    const backEnd = new FakeBackEnd().on('sessions.history', (args) => {
      asked.push(args);
      const { cursor } = args as { cursor?: string };
      return cursor === undefined
        ? { sessions: all.slice(0, HISTORY_PAGE), next: `${all[HISTORY_PAGE - 1]!.createdAt}:${all[HISTORY_PAGE - 1]!.sessionId}` }
        : { sessions: all.slice(HISTORY_PAGE), next: null };
    });
    const history = new HistoryStore(backEnd.bridge);
    await history.reload();
    expect(history.entries).toHaveLength(HISTORY_PAGE);
    await history.more();
    expect(history.entries.map((s) => s.description)).toEqual(all.map((s) => s.description));
    expect(history.next).toBeNull();
    await history.more();
    expect(asked).toHaveLength(2);
    await history.reload();
    expect(history.entries).toHaveLength(HISTORY_PAGE);
    expect(asked).toEqual([
      { limit: HISTORY_PAGE },
      { cursor: expect.stringMatching(/^\d+:[0-9a-f]{64}$/), limit: HISTORY_PAGE },
      { limit: HISTORY_PAGE },
    ]);
  });
});
