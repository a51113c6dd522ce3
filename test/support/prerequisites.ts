/**
 * What a test needs from the machine, and what happens when it is missing. A test names its
 * prerequisites; where one is missing it skips and says why, unless the run declared that
 * prerequisite required (`COSIGNER_REQUIRE`, a comma-separated list, which `.ci/run` sets for
 * everything it installs): then the test fails with a message naming what is missing. So a
 * machine that lost Chromium or gnome-keyring fails CI instead of passing it with skips.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export const PREREQUISITES = [
  'chromium',
  'built-ui',
  'secret-service',
  'netns',
  'user-netns',
  'root',
  'iptables',
  'svelte-runes',
  'electron',
] as const;
export type Prerequisite = (typeof PREREQUISITES)[number];

export function requiredPrerequisites(env: NodeJS.ProcessEnv = process.env): Set<Prerequisite> {
  const names = (env.COSIGNER_REQUIRE ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const name of names) {
    if (!(PREREQUISITES as readonly string[]).includes(name)) {
      throw new Error(`COSIGNER_REQUIRE names an unknown prerequisite "${name}" (known: ${PREREQUISITES.join(', ')})`);
    }
  }
  return new Set(names as Prerequisite[]);
}

export interface Gate {
  /** Set when the test should skip: a missing prerequisite the run did not require. */
  readonly skip: string | undefined;
  /** Set when the test must fail: a missing prerequisite the run required. */
  readonly fail: string | undefined;
  /** `title` with the skip reason appended, so the reason shows in every report. */
  title(title: string): string;
  /** Throws the failure, if any: call it first thing in the suite's beforeAll or the test. */
  assert(): void;
}

/** `missing` maps each prerequisite to why it is missing, or undefined where it is there. */
export function gate(missing: Partial<Record<Prerequisite, string | undefined>>, env: NodeJS.ProcessEnv = process.env): Gate {
  const required = requiredPrerequisites(env);
  const absent = Object.entries(missing).filter((e): e is [Prerequisite, string] => e[1] !== undefined);
  const mustHave = absent.filter(([name]) => required.has(name));
  const fail = mustHave.length > 0 ? `required prerequisite missing: ${mustHave.map(([n, why]) => `${n} (${why})`).join('; ')}` : undefined;
  const skip = fail === undefined && absent.length > 0 ? absent.map(([n, why]) => `${n}: ${why}`).join('; ') : undefined;
  if (skip !== undefined) console.warn(`[skip] ${skip}`);
  return {
    skip,
    fail,
    title: (title) => (skip === undefined ? title : `${title} — skipped: ${skip}`),
    assert: () => {
      if (fail !== undefined) throw new Error(fail);
    },
  };
}

/** Debian's Chromium unless CHROMIUM names another. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** What every UI test needs: Chromium, and the renderer built into dist/renderer. */
export function browserGate(): Gate {
  const root = path.resolve(import.meta.dirname, '../..');
  return gate({
    chromium: existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`,
    'built-ui': existsSync(path.join(root, 'dist', 'renderer', 'index.html')) ? undefined : 'the UI is not built (npm run build:renderer)',
  });
}

/**
 * Debian's Chromium, headless, as the UI tests and screenshots drive it. Without the background
 * networking flags Chromium keeps trying hosts this machine cannot reach.
 */
export async function launchChromium(): Promise<import('playwright-core').Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
