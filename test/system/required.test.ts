/**
 * Where a machine is supposed to have everything (CI sets PIPE_REQUIRE_BLAS=1 and
 * PIPE_REQUIRE=blas,libxgboost,fonts,chromium), a missing piece is a failure, not a skip: the
 * blas, XGBoost and browser tests skip themselves without their library, so this file is what
 * makes such a skip red on CI. Elsewhere only the requirements named in the variables are checked.
 */
import { describe, expect, it } from 'vitest';
import { checkRequirement, requirementNames } from '../../src/lib/system/requirements.js';

const required = new Set((process.env.PIPE_REQUIRE ?? '').split(',').map((s) => s.trim()).filter(Boolean));
if (process.env.PIPE_REQUIRE_BLAS && process.env.PIPE_REQUIRE_BLAS !== '0') required.add('blas');

describe('required system pieces', () => {
  it('PIPE_REQUIRE names only known requirements', () => {
    for (const r of required) expect(requirementNames()).toContain(r);
  });
  // one test per required piece (none outside CI unless asked for): nothing here skips
  for (const name of required) {
    it(`${name} is present (required here)`, async () => {
      const r = await checkRequirement(name);
      expect(r.status, `${name}: ${r.detail}; fix: ${r.fix}`).toBe('ok');
    });
  }
});
