import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { events, requests } from '../../../preload/contract.ts';

// docs/API.md is the reference for scripts: every request and event of the contract is in it.
const doc = readFileSync(path.resolve(import.meta.dirname, '../../../docs/API.md'), 'utf8');

describe('docs/API.md', () => {
  it.each(Object.keys(requests))('documents the request %s', (name) => {
    expect(doc).toContain(`\`${name}\``);
  });
  it.each(Object.keys(events))('documents the event %s', (name) => {
    expect(doc).toContain(`| \`${name}\` |`);
  });
});
