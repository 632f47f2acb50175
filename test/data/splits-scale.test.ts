/**
 * Splitting millions of rows: the held-out part is gathered with loops, never by spreading a
 * data-sized array into a call (which overflows V8's call stack a little above 100,000 elements:
 * "Maximum call stack size exceeded" with no stage named, issue 30's 20 M-row split).
 */
import { describe, expect, it } from 'vitest';
import { holdOut } from '../../src/lib/splits.js';
import { Rng } from '../../src/sdk/rng.js';

describe('holdOut at scale', () => {
  it('holds out 10 % of 3,000,000 rows, stratified and not, with exact counts', () => {
    const n = 3_000_000;
    const rows = Int32Array.from({ length: n }, (_, i) => i);
    const labels = Int32Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 1 : 0));
    const s = holdOut(rows, 300_000, labels, new Rng(7));
    expect(s.held.length).toBe(300_000);
    expect(s.kept.length).toBe(2_700_000);
    let pos = 0;
    for (const r of s.held) pos += labels[r]!;
    expect(pos).toBe(30_000); // the class ratio kept exactly (1 in 10)
    const t = holdOut(rows, 300_000, null, null);
    expect(t.held[0]).toBe(2_700_000); // no shuffle: the last rows
    expect(t.kept.length + t.held.length).toBe(n);
  });
});
