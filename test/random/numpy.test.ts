/**
 * `rng: numpy` against NumPy itself (python3-numpy is a test dependency: scripts/setup-system.sh
 * --with-test-deps; PIPE_REQUIRE=numpy makes its absence a failure instead of a skip).
 * The first 10,000 draws of every method, for several seeds, bit for bit (Generator.normal with the
 * ziggurat widths measured from NumPy; randn and the ziggurat's wedge and tail with libm, as NumPy).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NumpyGenerator, RandomState, crLog } from '../../src/lib/random/numpy.js';
import { libm } from '../../src/lib/random/libm.js';
import { havePython } from '../helpers/requires.js';

const PY = process.env.PIPE_PYTHON ?? '/usr/bin/python3';
const SEEDS = [0, 1, 42, 12345, 3_000_000_000];
const haveNumpy = havePython('numpy', 'python3-numpy', 'test/random/numpy: rng numpy equals NumPy');

type Draws = Record<string, Float64Array>;
let ref: Record<string, Draws> = {};

function dec(b64: string): Float64Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}
function draw(n: number, f: () => number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = f();
  return a;
}
function expectBits(actual: Float64Array, expected: Float64Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let first = -1;
  for (let i = 0; i < actual.length; i++) if (!Object.is(actual[i], expected[i])) { first = i; break; }
  expect(first === -1 ? 'equal' : `${what}: first difference at ${first}: ${actual[first]} vs ${expected[first]}`).toBe('equal');
}
describe.skipIf(!haveNumpy)('rng: numpy equals NumPy', () => {
  beforeAll(() => {
    const script = fileURLToPath(new URL('./numpy_draws.py', import.meta.url));
    const r = spawnSync(PY, [script, SEEDS.join(',')], { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(r.stderr);
    const j = JSON.parse(r.stdout) as { seeds: Record<string, Record<string, string>> };
    ref = Object.fromEntries(Object.entries(j.seeds).map(([s, d]) => [s, Object.fromEntries(Object.entries(d).map(([k, v]) => [k, dec(v)]))]));
  }, 60_000);
  const N = 10_000;

  it.runIf(process.platform === 'linux')('draws with the C library NumPy uses (libm through koffi), not a stand-in', () => {
    expect(libm(crLog).source).toBe('libm');
  });

  for (const seed of SEEDS) {
    it(`default_rng(${seed}): random, integers, permutation, choice bit for bit`, () => {
      const d = ref[String(seed)]!;
      let g = new NumpyGenerator(seed);
      expectBits(draw(N, () => g.random()), d.gen_random!, 'random');
      g = new NumpyGenerator(seed);
      expectBits(draw(N, () => g.integers(0, 10)), d.gen_integers_10!, 'integers(0, 10)');
      g = new NumpyGenerator(seed);
      expectBits(draw(N, () => g.integers(-5, 3_000_000_007)), d.gen_integers_wide!, 'integers(-5, 3e9+7)');
      expectBits(new NumpyGenerator(seed).permutation(N), d.gen_permutation!, 'permutation');
      expectBits(new NumpyGenerator(seed).choice(100, N), d.gen_choice_replace!, 'choice replace');
      expectBits(new NumpyGenerator(seed).choice(N, 500, false), d.gen_choice_floyd!, 'choice without replacement (Floyd)');
      expectBits(new NumpyGenerator(seed).choice(2 * N, N, false), d.gen_choice_tail!, 'choice without replacement (tail shuffle)');
    });
    it(`default_rng(${seed}): normal (ziggurat) bit for bit, alone and interleaved with other methods`, () => {
      const d = ref[String(seed)]!;
      let g = new NumpyGenerator(seed);
      expectBits(draw(N, () => g.normal(0, 1)), d.gen_normal!, 'normal');
      g = new NumpyGenerator(seed);
      expectBits(draw(N, () => g.normal(0, 0.5)), d.gen_normal_scalar!, 'normal(scale=0.5) one at a time');
      // mixed calls: integers' buffered 32-bit half, random and normal interleaved
      g = new NumpyGenerator(seed);
      const mixed: number[] = [];
      for (let i = 0; i < N / 4; i++) { mixed.push(g.integers(0, 7), g.random(), g.integers(0, 1000), g.normal()); }
      mixed.push(g.random());
      expectBits(Float64Array.from(mixed), d.gen_mixed!, 'mixed stream');
    });
    it(`RandomState(${seed}) / np.random.seed: rand, randint, permutation, choice, randn bit for bit`, () => {
      const d = ref[String(seed)]!;
      let r = new RandomState(seed);
      expectBits(draw(N, () => r.rand()), d.leg_rand!, 'rand');
      r = new RandomState(seed);
      expectBits(draw(N, () => r.randint(0, 1000)), d.leg_randint!, 'randint');
      expectBits(new RandomState(seed).permutation(N), d.leg_permutation!, 'permutation');
      expectBits(new RandomState(seed).choice(100, N), d.leg_choice_replace!, 'choice replace');
      expectBits(new RandomState(seed).choice(N, 500, false), d.leg_choice_noreplace!, 'choice without replacement');
      r = new RandomState(seed);
      expectBits(draw(N, () => r.randn()), d.leg_randn!, 'randn');
      expectBits(draw(100, () => r.rand()), d.leg_after_randn!, 'rand after 10,000 randn (same bits consumed)');
      expectBits(d.global_randn!, d.leg_randn!, 'np.random.seed + randn is RandomState');
    });
  }
});
