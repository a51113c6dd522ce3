import { describe, expect, it } from 'vitest';
import { gate, requiredPrerequisites } from '../../support/prerequisites.ts';

describe('test prerequisites', () => {
  it('a missing prerequisite nobody required skips with its reason', () => {
    const g = gate({ chromium: 'no Chromium at /usr/bin/chromium', 'built-ui': undefined }, {});
    expect(g.fail).toBeUndefined();
    expect(g.skip).toBe('chromium: no Chromium at /usr/bin/chromium');
    expect(g.title('UI')).toBe('UI — skipped: chromium: no Chromium at /usr/bin/chromium');
    expect(() => g.assert()).not.toThrow();
  });

  it('a missing prerequisite the run required fails, naming it, and does not skip', () => {
    const g = gate(
      { chromium: 'no Chromium at /usr/bin/chromium', 'secret-service': undefined },
      { COSIGNER_REQUIRE: 'chromium,secret-service' },
    );
    expect(g.skip).toBeUndefined();
    expect(g.title('UI')).toBe('UI');
    expect(() => g.assert()).toThrow('required prerequisite missing: chromium (no Chromium at /usr/bin/chromium)');
  });

  it('everything present: neither skips nor fails', () => {
    const g = gate({ chromium: undefined }, { COSIGNER_REQUIRE: 'chromium' });
    expect([g.skip, g.fail]).toEqual([undefined, undefined]);
  });

  it('an unknown name in COSIGNER_REQUIRE is an error, not a silent no-op', () => {
    expect(() => requiredPrerequisites({ COSIGNER_REQUIRE: 'chromum' })).toThrow(/unknown prerequisite "chromum"/);
  });
});
