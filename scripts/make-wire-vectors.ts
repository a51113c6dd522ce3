/**
 * Writes test/vectors/wire.json: one example of every wire format as today's encoders write it.
 * Run once when a format is added, never to make a failing pinned-vectors test pass: a change to
 * these bytes is a protocol version change (docs/PROTOCOL.md, docs/NETWORK.md).
 *   node scripts/make-wire-vectors.ts
 */
import { writeFileSync } from 'node:fs';
import { buildVectors, VECTORS_FILE } from '../test/support/wire-vectors.ts';

const vectors = await buildVectors();
writeFileSync(VECTORS_FILE, `${JSON.stringify({ note: 'Pinned wire bytes: see scripts/make-wire-vectors.ts', vectors }, null, 1)}\n`);
console.log(`wrote ${vectors.length} vectors to ${VECTORS_FILE}`);
