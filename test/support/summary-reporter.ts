import type { Reporter, SerializedError, TestModule, TestSuite } from 'vitest/node';

/**
 * Ends the run with one plain line, `N passed, N failed, N skipped`, that any CI log reader
 * understands, and lists every skipped test with the reason it gave, so that no skip goes unseen.
 *
 * "failed" counts everything that makes Vitest exit non-zero, not only failed tests: a suite or
 * file whose hook threw (a `beforeAll` that throws leaves its tests skipped, not failed), a file
 * that failed to load, and each unhandled error. Otherwise the heavy e2e suites, whose set-up is
 * in `beforeAll`, could fail while the line read "0 failed".
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    const line = summarize(testModules, unhandledErrors);
    if (line.skips.length > 0) console.log(`\nSkipped tests:\n${line.skips.join('\n')}`);
    if (line.failures.length > 0) console.log(`\nFailures outside tests:\n${line.failures.join('\n')}`);
    console.log(`\n${line.passed} passed, ${line.failed} failed, ${line.skipped} skipped`);
  }
}

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  skips: string[];
  /** Hooks, files and unhandled errors that failed the run, one line each. */
  failures: string[];
}

export function summarize(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): Summary {
  const summary: Summary = { passed: 0, failed: 0, skipped: 0, skips: [], failures: [] };
  for (const mod of testModules) {
    let failedInside = 0;
    for (const test of mod.children.allTests()) {
      const result = test.result();
      if (result.state === 'passed') summary.passed++;
      else if (result.state === 'failed') {
        summary.failed++;
        failedInside++;
      } else {
        summary.skipped++;
        const note = result.state === 'skipped' ? result.note : undefined;
        summary.skips.push(`  ${test.fullName}${note ? ` — ${note}` : ''}`);
      }
    }
    const containers: (TestModule | TestSuite)[] = [mod, ...mod.children.allSuites()];
    for (const container of containers) {
      const errors = container.errors();
      if (errors.length === 0) continue;
      summary.failed++;
      failedInside++;
      const name = container.type === 'module' ? container.relativeModuleId : `${mod.relativeModuleId} > ${container.fullName}`;
      summary.failures.push(`  ${name} — ${errors[0]?.message ?? 'failed'}`);
    }
    if (mod.state() === 'failed' && failedInside === 0) {
      summary.failed++;
      summary.failures.push(`  ${mod.relativeModuleId} — the file failed with no failed test or error reported`);
    }
  }
  for (const error of unhandledErrors) {
    summary.failed++;
    summary.failures.push(`  unhandled error — ${error.message}`);
  }
  return summary;
}
