import { describe, expect, it } from 'vitest';
import { SessionSummary, SUMMARY_TEXT_CHARS } from '../../../preload/contract.ts';
import { INDEX_KEY, SessionIndex, type IndexEntry } from '../../../main/session/session-index.ts';
import { summaryOf } from '../../../main/session/session-summary.ts';
import { MemoryRecordStore } from '../../support/memory-record-store.ts';

const ALICE = '02' + 'aa'.repeat(32);
const BOB = '03' + 'bb'.repeat(32);

function entry(n: number, createdAt: number, localKey = ALICE): IndexEntry {
  return {
    sessionId: n.toString(16).padStart(64, '0'),
    version: 1,
    phase: 'COMPLETE',
    createdAt,
    updatedAt: createdAt,
    creator: ALICE,
    isCreator: true,
    payloadKind: 'message',
    description: `session ${n}`,
    label: '',
    signingKey: 'cc'.repeat(32),
    failureCode: null,
    awaitingLocalApproval: false,
    interrupted: false,
    localKey,
  };
}

describe('session summary', () => {
  it('keeps one line of at most SUMMARY_TEXT_CHARS, never splitting a character, and fits the contract', () => {
    const { localKey: _, ...base } = entry(1, 1);
    const long = 'é'.repeat(50) + '\n\u0000' + '😀'.repeat(100);
    const summary = summaryOf({ ...base, description: long, messages: [{ hex: '00', display: 'line\tone' }], failure: null });
    expect(summary.description.length).toBeLessThanOrEqual(SUMMARY_TEXT_CHARS);
    expect(summary.description).toBe('é'.repeat(50) + '  ' + '😀'.repeat(34));
    expect(summary.label).toBe('line one');
    expect(SessionSummary.parse(summary)).toEqual(summary);
  });
});

describe('session index', () => {
  it('pages one signer’s sessions newest first, ties by id, with a cursor that resumes exactly', () => {
    const index = new SessionIndex();
    for (let n = 1; n <= 7; n++) index.set(entry(n, n <= 2 ? 100 : n * 100));
    index.set(entry(99, 10_000, BOB));
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = index.page(ALICE, cursor, 3);
      pages.push(page.sessions.map((s) => s.description));
      expect(page.sessions.every((s) => !('localKey' in s))).toBe(true);
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(pages).toEqual([['session 7', 'session 6', 'session 5'], ['session 4', 'session 3', 'session 1'], ['session 2']]);
    expect(() => index.page(ALICE, 'nonsense', 3)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => index.page(ALICE, undefined, 0)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('saves only when changed, reads back what it saved, and reports an unreadable document', async () => {
    const store = new MemoryRecordStore();
    const index = new SessionIndex();
    index.set(entry(1, 100));
    await index.save(store);
    await index.save(store);
    expect(store.writes).toBe(1);
    const { index: loaded, intact } = await SessionIndex.load(store);
    expect(intact).toBe(true);
    expect(loaded.get(entry(1, 100).sessionId)).toEqual(entry(1, 100));
    await store.put(INDEX_KEY, { format: 1, entries: [{ sessionId: 'x' }] });
    const broken = await SessionIndex.load(store);
    expect(broken.intact).toBe(false);
    expect(broken.index.size).toBe(0);
    expect((await SessionIndex.load(new MemoryRecordStore())).intact).toBe(true);
  });
});
