/**
 * `generate-synthetic`: seeded synthetic datasets of the seed systems. Same seed → the same
 * bytes of the artifact.
 *
 *  - study_success (§E.1): hours~U(0,10), sleep~U(4,10), attendance~U(0.5,1), breakfast~B(½);
 *    score = clip(5 + 6.5·hours + 4(sleep−6) + 30(attendance−0.5) + 5·breakfast + N(0,σ²), 0, 100);
 *    target passed = [score ≥ 60]. Defaults n = 1200, σ = 5.
 *  - health_risk (§E.1): bmi = clip(N(26,6²),15,45), steps = clip(N(8000,3000²),1000,18000),
 *    calories = clip(N(2100,400²),1200,4000); s = 0.12(bmi−22) + 0.00018(cal−2000)
 *    − 0.00008(steps−8000) + 0.003·max(bmi−30,0)² + N(0,σ²); risk_score = 100·sigmoid(s);
 *    target high_risk = [sigmoid(s) ≥ 0.55]. Defaults n = 1500, σ = 0.1.
 *  - synthetic_2d (§B.4): 8 isotropic Gaussian clusters (std 0.3) centred at 2(cos θᵢ, sin θᵢ),
 *    θᵢ = 2πi/8, `per_cluster` = 1250 points each, shuffled; target = cluster index.
 *    (The seed's 80/20 split: `split` with method holdout, shuffle false, test_fraction 0.2,
 *    val_fraction 0.)
 *  - playground (§C.1): x = 200 evenly spaced points on [−2.5, 2.5], noiseless
 *    y = a x³ + b x² + c x + d for `polynomial` linear_pos | quadratic_u | cubic_s | cubic_neg |
 *    quartic_w (= (0.2x²)² = 0.04x⁴, as the seed special-cases it); regression target y.
 *    `coefficients: {a, b, c, d}` (optional `form: square` for (b x² + d)²) gives a user's
 *    polynomial instead (named `polynomial` unless `name` is set). The polynomial is in the
 *    table's metadata (`generator.coefficients`), so consumers can draw the true curve densely.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';
import { withTableLimits } from '../sdk/limits.js';
import { POLYNOMIALS, type Polynomial } from '../lib/ml/polynomials.js';

export { POLYNOMIALS };

const generateSyntheticParamsSchema = {
  type: 'object',
  properties: {
    generator: { enum: ['study_success', 'health_risk', 'synthetic_2d', 'playground'] },
    n: { type: 'integer', minimum: 1, description: 'rows (study_success: 1200, health_risk: 1500)' },
    noise: { type: 'number', minimum: 0, description: 'noise σ (study_success: 5, health_risk: 0.1)' },
    per_cluster: { type: 'integer', minimum: 1, default: 1250, description: 'synthetic_2d: points per cluster' },
    polynomial: { enum: Object.keys(POLYNOMIALS), default: 'cubic_s', description: 'playground: target polynomial' },
    points: { type: 'integer', minimum: 2, default: 200, description: 'playground: number of x points on [-2.5, 2.5]' },
    coefficients: {
      type: 'object',
      description: 'playground: a user polynomial y = a x³ + b x² + c x + d (form square: (b x² + d)²) instead of a named one',
      properties: { a: { type: 'number' }, b: { type: 'number' }, c: { type: 'number' }, d: { type: 'number' }, form: { enum: ['cubic', 'square'] } },
      additionalProperties: false,
    },
    name: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', description: 'playground: name of a user polynomial (default custom)' },
    data_seed: { type: ['integer', 'null'], default: null, description: 'draw from this seed instead of the stage seed (e.g. one fixed data set across repetitions)' },
  },
  required: ['generator'],
  additionalProperties: false,
} as const;

/** The params after defaults, derived from the schema (so the two cannot disagree). */
export type GenerateSyntheticParams = FromSchema<typeof generateSyntheticParamsSchema>;

export default defineStage<GenerateSyntheticParams>(withTableLimits({
  kind: 'generate-synthetic',
  version: '2',
  description: 'Seeded synthetic datasets: study_success, health_risk, synthetic_2d (8 clusters), playground polynomials',
  paramsSchema: generateSyntheticParamsSchema,
  inputs: {},
  outputs: { table: { type: 'table', description: 'the generated dataset' } },
  async run(ctx) {
    const p = ctx.params;
    const { makeTable, numericVector, writeTable } = await import('../sdk/table.js');
    const { evalPolynomial } = await import('../lib/ml/polynomials.js');
    const seed = p.data_seed ?? ctx.seed;
    const rng = p.data_seed == null ? ctx.rng : new (await import('../sdk/rng.js')).Rng(p.data_seed);
    const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
    let table;
    let metrics: Record<string, number> = {};
    if (p.generator === 'study_success') {
      const n = p.n ?? 1200;
      const sigma = p.noise ?? 5;
      const hours = new Float64Array(n), sleep = new Float64Array(n), att = new Float64Array(n), bf = new Float64Array(n), score = new Float64Array(n);
      const passed = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        hours[i] = rng.uniform(0, 10);
        sleep[i] = rng.uniform(4, 10);
        att[i] = rng.uniform(0.5, 1);
        bf[i] = rng.bernoulli(0.5) ? 1 : 0;
      }
      for (let i = 0; i < n; i++) {
        score[i] = clip(5 + 6.5 * hours[i]! + 4 * (sleep[i]! - 6) + 30 * (att[i]! - 0.5) + 5 * bf[i]! + rng.normal(0, sigma), 0, 100);
        passed[i] = score[i]! >= 60 ? 1 : 0;
      }
      table = makeTable({
        hours: numericVector('float64', hours), sleep: numericVector('float64', sleep), attendance: numericVector('float64', att),
        breakfast: numericVector('float64', bf), score: numericVector('float64', score), passed: numericVector('int32', passed),
      }, { dataset: 'study_success', target: 'passed', task: 'classification', classes: ['0', '1'], features: ['hours', 'sleep', 'attendance', 'breakfast'], generator: { name: 'study_success', n, noise: sigma, seed } });
      metrics = { rows: n, positive_rate: passed.reduce((a, b) => a + b, 0) / n };
    } else if (p.generator === 'health_risk') {
      const n = p.n ?? 1500;
      const sigma = p.noise ?? 0.1;
      const bmi = new Float64Array(n), steps = new Float64Array(n), cal = new Float64Array(n), risk = new Float64Array(n);
      const high = new Int32Array(n);
      for (let i = 0; i < n; i++) bmi[i] = clip(rng.normal(26, 6), 15, 45);
      for (let i = 0; i < n; i++) steps[i] = clip(rng.normal(8000, 3000), 1000, 18000);
      for (let i = 0; i < n; i++) cal[i] = clip(rng.normal(2100, 400), 1200, 4000);
      for (let i = 0; i < n; i++) {
        const s = 0.12 * (bmi[i]! - 22) + 0.00018 * (cal[i]! - 2000) - 0.00008 * (steps[i]! - 8000) + 0.003 * Math.max(bmi[i]! - 30, 0) ** 2 + rng.normal(0, sigma);
        const prob = 1 / (1 + Math.exp(-s));
        risk[i] = 100 * prob;
        high[i] = prob >= 0.55 ? 1 : 0;
      }
      table = makeTable({
        bmi: numericVector('float64', bmi), steps: numericVector('float64', steps), calories: numericVector('float64', cal),
        risk_score: numericVector('float64', risk), high_risk: numericVector('int32', high),
      }, { dataset: 'health_risk', target: 'high_risk', task: 'classification', classes: ['0', '1'], features: ['bmi', 'steps', 'calories'], generator: { name: 'health_risk', n, noise: sigma, seed } });
      metrics = { rows: n, positive_rate: high.reduce((a, b) => a + b, 0) / n };
    } else if (p.generator === 'synthetic_2d') {
      const k = 8, m = p.per_cluster, n = k * m, std = 0.3;
      const x = new Float64Array(n), y = new Float64Array(n);
      const lab = new Int32Array(n);
      for (let c = 0; c < k; c++) {
        const th = (2 * Math.PI * c) / k;
        const cx = 2 * Math.cos(th), cy = 2 * Math.sin(th);
        for (let j = 0; j < m; j++) {
          const i = c * m + j;
          x[i] = cx + rng.normal(0, std);
          y[i] = cy + rng.normal(0, std);
          lab[i] = c;
        }
      }
      const perm = rng.permutation(n);
      const xs = new Float64Array(n), ys = new Float64Array(n), ls = new Int32Array(n);
      for (let i = 0; i < n; i++) { xs[i] = x[perm[i]!]!; ys[i] = y[perm[i]!]!; ls[i] = lab[perm[i]!]!; }
      table = makeTable({ x: numericVector('float64', xs), y: numericVector('float64', ys), cluster: numericVector('int32', ls) },
        { dataset: 'synthetic_2d', target: 'cluster', task: 'classification', classes: ['0', '1', '2', '3', '4', '5', '6', '7'], features: ['x', 'y'], generator: { name: 'synthetic_2d', clusters: k, per_cluster: m, std, radius: 2, seed } });
      metrics = { rows: n };
    } else {
      const user = p.coefficients;
      const c: Polynomial = user ? { a: user.a ?? 0, b: user.b ?? 0, c: user.c ?? 0, d: user.d ?? 0, form: user.form ?? 'cubic' } : POLYNOMIALS[p.polynomial as keyof typeof POLYNOMIALS];
      const name = user ? p.name ?? 'custom' : p.polynomial;
      const n = p.points;
      const xs = new Float64Array(n), ys = new Float64Array(n);
      const step = 5 / (n - 1);
      for (let i = 0; i < n; i++) {
        xs[i] = i === n - 1 ? 2.5 : i * step - 2.5; // as numpy.linspace(-2.5, 2.5, n)
        ys[i] = evalPolynomial(c, xs[i]!);
      }
      table = makeTable({ x: numericVector('float64', xs), y: numericVector('float64', ys) },
        { dataset: `playground_${name}`, target: 'y', task: 'regression', features: ['x'], generator: { name: 'playground', polynomial: name, coefficients: c, points: n } });
      metrics = { rows: n };
    }
    await writeTable(ctx.output('table').path, table);
    return { metrics };
  },
}));
