import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// The release workflow is checked in the file itself: it only runs on GitHub, with real secrets,
// where a mistake ships a mis-signed installer or leaks a certificate to a job that never needed it.
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };
const root = path.resolve(import.meta.dirname, '../../..');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
interface Job {
  permissions?: Record<string, string> | string;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  permissions?: Record<string, string> | string;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const text = readFileSync(path.join(root, '.github/workflows/release.yml'), 'utf8');
const workflow = yaml.load(text) as Workflow;
const jobs = Object.entries(workflow.jobs);
const steps = jobs.flatMap(([job, j]) => j.steps.map((step) => ({ job, step })));

/** The steps whose env passes `secrets.<name>`, whatever the variable is called. */
function stepsWithSecret(name: string) {
  const re = new RegExp(`secrets\\.${name}\\b`);
  return steps.filter(({ step }) => Object.values(step.env ?? {}).some((v) => re.test(v)));
}

describe('release workflow', () => {
  it('pins every action by full commit SHA', () => {
    const uses = steps.map(({ step }) => step.uses).filter((u): u is string => u !== undefined);
    expect(uses.length).toBeGreaterThan(0);
    for (const u of uses) expect(u, u).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/);
    // Each pin says which release tag it was taken from.
    for (const line of text.split('\n').filter((l) => /uses:\s/.test(l))) expect(line, line).toMatch(/# v\d+\.\d+\.\d+$/);
  });

  it('grants no permission by default and each job only what it uses', () => {
    expect(workflow.permissions).toEqual({});
    for (const [name, job] of jobs) {
      expect(typeof job.permissions, `${name} permissions`).toBe('object');
      const granted = job.permissions as Record<string, string>;
      const writes = Object.keys(granted).filter((k) => granted[k] === 'write');
      expect(writes.sort(), name).toEqual(name === 'release' ? ['attestations', 'contents', 'id-token'] : []);
    }
  });

  it('gives secrets only to steps, never to a whole job or the workflow', () => {
    expect(JSON.stringify(workflow.env ?? {})).not.toMatch(/secrets\./);
    for (const [name, job] of jobs) expect(JSON.stringify(job.env ?? {}), name).not.toMatch(/secrets\./);
  });

  it('gives the macOS certificate and Apple keys to macOS steps only, and the Windows certificate to the Windows step only', () => {
    for (const secret of ['MAC_CSC_LINK', 'MAC_CSC_KEY_PASSWORD', 'APPLE_API_KEY', 'APPLE_API_KEY_ID', 'APPLE_API_ISSUER']) {
      const found = stepsWithSecret(secret);
      expect(found.length, secret).toBeGreaterThan(0);
      for (const { step } of found) expect(step.if, `${secret} in "${step.name}"`).toMatch(/runner\.os == 'macOS'/);
    }
    for (const secret of ['WIN_CSC_LINK', 'WIN_CSC_KEY_PASSWORD']) {
      const found = stepsWithSecret(secret);
      expect(found.length, secret).toBeGreaterThan(0);
      for (const { step } of found) {
        expect(step.if, `${secret} in "${step.name}"`).toMatch(/runner\.os == 'Windows'/);
        expect(Object.keys(step.env!)).not.toContain('CSC_LINK');
      }
    }
  });

  it('hands electron-builder the notarization key as a file path, never the key text', () => {
    // electron-builder reads APPLE_API_KEY as a path to the .p8 file.
    for (const { step } of steps) expect(step.env?.APPLE_API_KEY ?? '', step.name).not.toMatch(/secrets\./);
    const writer = stepsWithSecret('APPLE_API_KEY').map(({ step }) => step);
    expect(writer).toHaveLength(1);
    expect(writer[0]!.run).toMatch(/> "\$key"/);
    expect(writer[0]!.run).toMatch(/APPLE_API_KEY=\$key" >> "\$GITHUB_ENV"/);
    expect(steps.some(({ step }) => step.if?.includes('always()') && /rm -f .*AuthKey\.p8/.test(step.run ?? ''))).toBe(true);
  });

  it('checksums every artifact and attests the build provenance of each', () => {
    const release = workflow.jobs.release!;
    const sums = release.steps.findIndex((s) => /sha256sum -- \* > SHA256SUMS/.test(s.run ?? ''));
    const attest = release.steps.findIndex((s) => s.uses?.startsWith('actions/attest-build-provenance@'));
    expect(sums).toBeGreaterThanOrEqual(0);
    expect(attest).toBeGreaterThan(sums);
    expect(release.steps[attest]!.with?.['subject-checksums']).toMatch(/SHA256SUMS$/);
    const publish = release.steps.findIndex((s) => /gh release create/.test(s.run ?? ''));
    expect(publish).toBeGreaterThan(attest);
    expect(release.steps[publish]!.run).toMatch(/--draft/);
  });

  it('has a release checklist naming every secret the workflow reads', () => {
    const checklist = readFileSync(path.join(root, 'docs/RELEASE.md'), 'utf8');
    const secrets = new Set([...text.matchAll(/secrets\.([A-Z0-9_]+)/g)].map((m) => m[1]!));
    for (const s of secrets) expect(checklist, s).toContain(s);
    expect(checklist).toMatch(/gh attestation verify/);
    expect(checklist).toMatch(/sha256sum -c/);
  });
});
