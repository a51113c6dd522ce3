/**
 * A session as one line of history (preload/contract.ts SessionSummary): what the list shows, small
 * enough that the index of every stored session fits in one document. Pure.
 */
import { SUMMARY_TEXT_CHARS, type SessionSnapshot, type SessionSummary } from '../../preload/contract.ts';

/** What a summary is made of: the coordinator's snapshots and the contract's both have it. */
type SummarySource = Pick<
  SessionSnapshot,
  | 'sessionId'
  | 'version'
  | 'phase'
  | 'createdAt'
  | 'updatedAt'
  | 'creator'
  | 'isCreator'
  | 'payloadKind'
  | 'description'
  | 'messages'
  | 'signingKey'
  | 'awaitingLocalApproval'
  | 'interrupted'
> & { failure: { code: string } | null };

/**
 * One line of text: control characters become spaces (JSON would spell each in 6 bytes, and a list
 * line has no use for them), then cut to `SUMMARY_TEXT_CHARS` UTF-16 units (what the contract's
 * schema counts) without splitting a character. So a line of the index stays under ~1.3 kB.
 */
function cut(text: string): string {
  const line = text.replace(/\p{Cc}/gu, ' ');
  if (line.length <= SUMMARY_TEXT_CHARS) return line;
  let out = '';
  for (const char of line) {
    if (out.length + char.length > SUMMARY_TEXT_CHARS) break;
    out += char;
  }
  return out;
}

export function summaryOf(s: SummarySource): SessionSummary {
  return {
    sessionId: s.sessionId,
    version: s.version,
    phase: s.phase,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    creator: s.creator,
    isCreator: s.isCreator,
    payloadKind: s.payloadKind,
    description: cut(s.description),
    label: cut(s.messages[0]?.display ?? ''),
    signingKey: s.signingKey,
    failureCode: s.failure?.code ?? null,
    awaitingLocalApproval: s.awaitingLocalApproval,
    interrupted: s.interrupted,
  };
}

/** History order: newest first, ties by session id. */
export function newestFirst(a: SessionSummary, b: SessionSummary): number {
  return b.createdAt - a.createdAt || (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0);
}

export function cursorOf(s: SessionSummary): string {
  return `${s.createdAt}:${s.sessionId}`;
}

/** Whether `s` comes after the entry `cursor` names, in history order. */
export function isAfter(s: SessionSummary, cursor: string): boolean {
  const colon = cursor.indexOf(':');
  const createdAt = Number(cursor.slice(0, colon));
  const sessionId = cursor.slice(colon + 1);
  return s.createdAt < createdAt || (s.createdAt === createdAt && s.sessionId > sessionId);
}
