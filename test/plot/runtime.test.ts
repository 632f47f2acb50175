import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import plot from '../../src/stages/plot.js';
import animation from '../../src/stages/animation.js';
import { fontFiles } from '../../src/lib/plot/fonts.js';
import { repoRoot } from '../engine/helpers.js';

const version = (p: string) => (JSON.parse(readFileSync(join(repoRoot, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;

describe('figure kinds carry their renderer versions and font in the fingerprint', () => {
  it('plot: vega, vega-lite, resvg versions and the font files hash', async () => {
    const rt = await plot.runtime!({} as never);
    expect(rt.vega).toBe(version('vega'));
    expect(rt['vega-lite']).toBe(version('vega-lite'));
    expect(rt.resvg).toBe(version('@resvg/resvg-js'));
    expect(fontFiles().length).toBeGreaterThan(0); // PIPE_REQUIRE=fonts in CI: fonts are there
    expect(rt.font).toMatch(/^[0-9a-f]{64}$/);
  });

  it('animation: the same plus gifenc', async () => {
    const rt = await animation.runtime!({} as never);
    expect(rt).toMatchObject({ vega: version('vega'), resvg: version('@resvg/resvg-js'), gifenc: version('gifenc') });
    expect(rt.font).toBe((await plot.runtime!({} as never)).font);
  });
});
