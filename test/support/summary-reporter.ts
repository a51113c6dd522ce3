import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line, `N passed, N failed, N skipped`, that any CI log reader
 * understands, and lists every skipped test with the reason it gave, so that no skip goes unseen.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const skips: string[] = [];
    for (const mod of testModules) {
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed++;
      for (const test of mod.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') passed++;
        else if (result.state === 'failed') failed++;
        else {
          skipped++;
          const note = result.state === 'skipped' ? result.note : undefined;
          skips.push(`  ${test.fullName}${note ? ` — ${note}` : ''}`);
        }
      }
    }
    if (skips.length > 0) console.log(`\nSkipped tests:\n${skips.join('\n')}`);
    console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
