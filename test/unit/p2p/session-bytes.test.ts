/** docs/NETWORK.md's table of what a session sends is what today's encoders produce (it cannot drift). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sessionBytes, sessionBytesTable } from '../../support/session-bytes.ts';

describe('what a session sends', () => {
  it('is the table docs/NETWORK.md shows', () => {
    const doc = readFileSync(new URL('../../../docs/NETWORK.md', import.meta.url), 'utf8');
    const table = sessionBytesTable();
    expect(doc, `docs/NETWORK.md should hold this table:\n${table}`).toContain(table);
  });

  it('grows with inputs and signers as the protocol says: 66-byte nonces and 32-byte partials per input, and evidence per signer', () => {
    const one = sessionBytes('PSBT, 1 input', 3);
    const ten = sessionBytes('PSBT, 10 inputs', 3);
    // The last approver sends NONCES and PARTIAL_SIGS (with 3 evidence entries of m nonces) to 2 peers.
    const perInput = 2 * (66 + 32 + 3 * 66);
    expect(ten.lastApproverSends - one.lastApproverSends).toBeGreaterThanOrEqual(9 * perInput);
    expect(ten.lastApproverSends - one.lastApproverSends).toBeLessThan(9 * perInput + 64);
  });
});
